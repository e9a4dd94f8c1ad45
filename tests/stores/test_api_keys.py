import pytest

from assetlink_project.errors import PermissionDeniedError
from stores import services
from stores.models import ApiKey

pytestmark = pytest.mark.django_db


def test_key_is_shown_once_and_stored_hashed(admin_user, store):
    key, token = services.api_key_create(user=admin_user, store=store, label="PIM")
    stored = ApiKey.objects.get(pk=key.pk)
    assert token.split("_", 2)[2] not in stored.secret_hash
    assert services.api_key_authenticate(token) == key
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_revoked_or_forged_keys_do_not_authenticate(admin_user, store):
    key, token = services.api_key_create(user=admin_user, store=store, label="CI")
    assert services.api_key_authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert services.api_key_authenticate("al_nothing") is None
    services.api_key_revoke(user=admin_user, key=key)
    assert services.api_key_authenticate(token) is None


def test_users_cannot_create_keys(plain_user, store):
    with pytest.raises(PermissionDeniedError, match="create API keys"):
        services.api_key_create(user=plain_user, store=store, label="x")
