"""Secrets at rest: a model field that stores Fernet ciphertext and hands out masked values.

The decrypted value is a `Secret`, whose str/repr never show the clear text, so a secret that
reaches a template, a log line or a debug page's locals stays masked; call `.reveal()` where the
clear text is really needed (an outgoing API call).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

MASK = "••••••••"


class Secret:
    """A secret's clear text, decrypted from its ciphertext only when first needed: loading a
    list of stores costs no decryption (it is the dearest part of reading a row)."""

    __slots__ = ("_value", "_ciphertext")

    def __init__(self, value: str = "", *, ciphertext: str = ""):
        self._value = None if ciphertext else value
        self._ciphertext = ciphertext

    def reveal(self) -> str:
        if self._value is None:
            self._value = decrypt(self._ciphertext)
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __bool__(self) -> bool:
        return bool(self._ciphertext) if self._value is None else bool(self._value)

    def __eq__(self, other) -> bool:
        if isinstance(other, Secret):
            return self.reveal() == other.reveal()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.reveal())


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet(tuple(settings.ENCRYPTION_KEYS)).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet(tuple(settings.ENCRYPTION_KEYS)).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "A stored secret cannot be decrypted with ENCRYPTION_KEYS; was the key rotated "
            "without keeping the old one (comma-separated, newest first)?"
        ) from exc


class EncryptedSecretField(models.TextField):
    """Stores a `Secret` encrypted; empty string means "not set"."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return Secret("")
        return Secret(ciphertext=value)

    def to_python(self, value):
        if isinstance(value, Secret):
            return value
        return Secret(value or "")

    def get_prep_value(self, value):
        plain = value.reveal() if isinstance(value, Secret) else (value or "")
        return encrypt(plain) if plain else ""

    def value_to_string(self, obj):
        return MASK


class _SecretDescriptor:
    """Wraps whatever is assigned in a `Secret`, so the attribute is never a clear str."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance.__dict__.get(self.name, Secret(""))

    def __set__(self, instance, value):
        if not isinstance(value, Secret):
            value = Secret(value or "")
        instance.__dict__[self.name] = value


def _contribute(self, cls, name, *args, **kwargs):
    models.TextField.contribute_to_class(self, cls, name, *args, **kwargs)
    setattr(cls, self.attname, _SecretDescriptor(self.attname))


EncryptedSecretField.contribute_to_class = _contribute
