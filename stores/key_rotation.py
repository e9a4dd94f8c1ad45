"""Encryption key rotation: re-encrypt every secret at rest with the newest of ENCRYPTION_KEYS.

The procedure (docs/deploy.md, "Rotating the encryption key"): put the new key first in
ENCRYPTION_KEYS and keep the old ones after it; restart; run `manage.py reencrypt_secrets`;
remove the old keys; restart. Every secret then decrypts with the new key alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from stores.secrets import EncryptedSecretField


@dataclass
class RotationResult:
    rows: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def encrypted_fields() -> list[tuple[type, list[str]]]:
    """Every model with secrets at rest and the names of those fields."""
    found = []
    for model in apps.get_models():
        names = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedSecretField)
        ]
        if names:
            found.append((model, names))
    return found


def reencrypt_all(*, batch_size: int = 500) -> RotationResult:
    """Decrypt each secret with any key of ENCRYPTION_KEYS and write it back encrypted with the
    first. Rows that no key decrypts are listed in `failures` and left as they are."""
    result = RotationResult()
    for model, names in encrypted_fields():
        label = model._meta.label
        pks = list(model.objects.order_by("pk").values_list("pk", flat=True))
        done = 0
        for start in range(0, len(pks), batch_size):
            with transaction.atomic():
                for pk in pks[start : start + batch_size]:
                    values = model.objects.filter(pk=pk).values(*names).first()
                    if values is None:  # deleted meanwhile
                        continue
                    try:
                        for secret in values.values():
                            secret.reveal()
                    except ValueError:  # stores.secrets.decrypt: no key decrypts a value
                        result.failures.append(f"{label} {pk}")
                        continue
                    # Secret → get_prep_value encrypts with the newest key; empty stays empty.
                    model.objects.filter(pk=pk).update(**values)
                    done += 1
        result.rows[label] = done
    return result
