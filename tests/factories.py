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
