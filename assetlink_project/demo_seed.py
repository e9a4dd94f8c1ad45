"""Demo data: an admin login, a workspace on the Cloudinary emulator, stores on the Shopify one."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.db import transaction

from stores.models import Member, Role, Workspace
from stores.services import workspace_create

DEMO_USERNAME = "admin"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "assetlink-demo")
DEMO_WORKSPACE = "Demo workspace"


@transaction.atomic
def seed_app() -> tuple:
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"is_staff": True, "email": "admin@example.com"}
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save()
    workspace = Workspace.objects.filter(name=DEMO_WORKSPACE).first()
    if workspace is None:
        workspace = workspace_create(
            name=DEMO_WORKSPACE,
            owner=user,
            cloudinary_cloud_name="demo",
            cloudinary_api_key="sandbox-key",
            cloudinary_api_secret="sandbox-secret",
        )
    Member.objects.get_or_create(
        user=user, workspace=workspace, defaults={"role": Role.MASTER_ADMIN}
    )
    return user, workspace


def seed(*, shopify_url: str, cloudinary_url: str, app_url: str) -> dict:
    seed_app()
    return {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
