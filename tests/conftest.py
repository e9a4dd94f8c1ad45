"""Shared fixtures: factories-backed users, workspaces and stores."""

from __future__ import annotations

import pytest

from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory


def pytest_configure(config):
    # Settings do not start the embedded Redis (REDIS_URL unset); the test session does.
    from assetlink_project import embedded_redis

    embedded_redis.start_if_embedded()


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
