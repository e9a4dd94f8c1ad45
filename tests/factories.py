import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.utils import timezone

from stores.models import Member, Store, Workspace, WorkspaceSettings


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.LazyFunction(lambda: make_password("correct horse battery"))


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Workspace {n}")
    cloudinary_cloud_name = "demo"
    cloudinary_api_key = "sandbox-key"
    cloudinary_api_secret = "sandbox-secret"
    settings = factory.RelatedFactory(
        "tests.factories.WorkspaceSettingsFactory", factory_related_name="workspace"
    )


class WorkspaceSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkspaceSettings


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    workspace = factory.SubFactory(WorkspaceFactory)
    shop_domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    access_token = "shpat_test0000000000000000"
    installed_at = factory.LazyFunction(timezone.now)  # rows exist only through an install


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = "user"


# --- plans, runs and their records (the runs layer) ---------------------------------------


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "linking.Plan"
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    expression = 'folder="products"'
    cloudinary_field = "metadata:sku"
    shopify_field = "variant.sku"

    @factory.post_generation
    def stores(self, create, extracted, **kwargs):
        if create and extracted:
            self.stores.set(extracted)


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reports.Run"

    store = factory.SubFactory(StoreFactory)
    plan = factory.SubFactory(PlanFactory, workspace=factory.SelfAttribute("..store.workspace"))
    kind = "link"
    link_mode = "append"


class RunProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reports.RunProduct"

    run = factory.SubFactory(RunFactory)
    product_id = factory.Sequence(lambda n: f"gid://shopify/Product/{n + 1}")


class ReportRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reports.ReportRow"

    run = factory.SubFactory(RunFactory)
    seq = factory.Sequence(lambda n: n + 1)
    product_id = factory.Sequence(lambda n: f"gid://shopify/Product/{n + 1}")
    asset_id = factory.Sequence(lambda n: f"asset{n}")
    action = "created"


class LinkRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "linking.LinkRecord"

    store = factory.SubFactory(StoreFactory)
    product_id = factory.Sequence(lambda n: f"gid://shopify/Product/{n + 1}")
    media_id = factory.Sequence(lambda n: f"gid://shopify/MediaImage/{n + 1}")
    asset_id = factory.Sequence(lambda n: f"asset{n}")
    version = 1


class UploadBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "uploads.UploadBatch"

    workspace = factory.SubFactory(WorkspaceFactory)
    expression = 'folder="products"'
