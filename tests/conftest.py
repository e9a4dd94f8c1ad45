"""Shared fixtures: factories-backed users, workspaces and stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory

# `pytest --hypothesis-profile=soak tests/whole`: the whole-product state machine's soak run
# (100 sequences of 25 steps; `make test` runs a few short ones).
hypothesis_settings.register_profile(
    "soak",
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    # No shrinking: shrinking a sequence of live runs takes longer than the soak; the first
    # failing sequence is printed as found.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def pytest_configure(config):
    # Settings do not start the embedded Redis (REDIS_URL unset); the test session does, and
    # stops it at the end if it was the one to start it (a demo sharing var/ keeps its server).
    from assetlink_project import embedded_redis

    config._embedded_redis_started = embedded_redis.start_if_embedded()
    _scan_static_files_once()


def pytest_unconfigure(config):
    from django.conf import settings

    from assetlink_project import embedded_redis

    if getattr(config, "_embedded_redis_started", False):
        embedded_redis.stop(Path(settings.VAR_DIR) / "redis")


_STATIC_SETTINGS = ("DEBUG", "STATIC_URL", "STATIC_ROOT", "FORCE_SCRIPT_NAME", "INSTALLED_APPS",
                    "STATICFILES_DIRS", "STATICFILES_FINDERS", "STORAGES")  # fmt: skip


def _scan_static_files_once() -> None:
    """Django's test client builds the middleware anew for every Client (pytest-django's
    `client`: every test; some tests one per request), and WhiteNoise then reads every app's
    static directory through the finders (~180 files: ~50 ms a Client). The files do not
    change during a session: each configuration reads them once, and every middleware built
    with it serves the same table (the same files, headers and paths as reading them again)."""
    from django.conf import settings
    from whitenoise.middleware import WhiteNoiseMiddleware

    read = WhiteNoiseMiddleware.add_files_from_finders
    tables: dict[str, dict] = {}

    def add_files_from_finders(self) -> None:
        # Everything the table depends on: the middleware's settings and the finders'.
        key = repr(
            [getattr(settings, name, None) for name in _STATIC_SETTINGS]
            + [(name, getattr(settings, name)) for name in dir(settings)
               if name.startswith("WHITENOISE_")]
        )  # fmt: skip
        if key not in tables:
            own, self.files = self.files, {}
            read(self)
            tables[key], self.files = self.files, own
        self.files.update(tables[key])

    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def store(workspace):
    return StoreFactory(workspace=workspace)


@pytest.fixture
def admin_member(workspace):
    return MemberFactory(workspace=workspace, role="master_admin")


@pytest.fixture
def user_member(workspace):
    return MemberFactory(workspace=workspace, role="user")


@pytest.fixture
def admin_user(admin_member):
    return admin_member.user


@pytest.fixture
def plain_user(user_member):
    return user_member.user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
