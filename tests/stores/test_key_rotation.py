"""Encryption key rotation end to end: new key first, re-encrypt, old key removed — every
secret still decrypts (docs/deploy.md, "Rotating the encryption key")."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from stores.models import Store
from tests.factories import StoreFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def _raw_token(store) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM stores_store WHERE id = %s", [store.pk])
        return cursor.fetchone()[0]


def _reencrypt() -> str:
    out = io.StringIO()
    call_command("reencrypt_secrets", stdout=out)
    return out.getvalue()


def test_rotate_reencrypt_and_remove_the_old_key(settings):
    settings.ENCRYPTION_KEYS = [OLD]
    workspace = WorkspaceFactory(cloudinary_api_secret="cloud-secret-1")
    store = StoreFactory(workspace=workspace, access_token="shpat_token_1", refresh_token="")

    settings.ENCRYPTION_KEYS = [NEW, OLD]  # 1. the new key first, the old one kept
    assert Store.objects.get(pk=store.pk).access_token.reveal() == "shpat_token_1"
    out = _reencrypt()  # 2. re-encrypt everything with the new key
    assert "stores.Store: 1 rows re-encrypted" in out
    assert "stores.Workspace: 1 rows re-encrypted" in out

    settings.ENCRYPTION_KEYS = [NEW]  # 3. the old key removed
    fresh = Store.objects.select_related("workspace").get(pk=store.pk)
    assert fresh.access_token.reveal() == "shpat_token_1"
    assert fresh.refresh_token.reveal() == ""
    assert fresh.workspace.cloudinary_api_secret.reveal() == "cloud-secret-1"
    assert Fernet(NEW.encode()).decrypt(_raw_token(store).encode()) == b"shpat_token_1"


def test_removing_the_old_key_without_reencrypting_breaks_decryption(settings):
    settings.ENCRYPTION_KEYS = [OLD]
    store = StoreFactory(access_token="shpat_token_2")
    settings.ENCRYPTION_KEYS = [NEW]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        Store.objects.get(pk=store.pk).access_token.reveal()


def test_a_secret_no_key_decrypts_is_named_and_left_alone(settings):
    settings.ENCRYPTION_KEYS = [OTHER]
    lost = StoreFactory(access_token="shpat_lost")
    settings.ENCRYPTION_KEYS = [NEW, OLD]
    kept = StoreFactory(access_token="shpat_kept")
    before = _raw_token(lost)
    with pytest.raises(CommandError, match=f"stores.Store {lost.pk}"):
        _reencrypt()
    assert _raw_token(lost) == before
    assert Store.objects.get(pk=kept.pk).access_token.reveal() == "shpat_kept"
