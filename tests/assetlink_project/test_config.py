"""Settings come from the environment and bad values fail with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from assetlink_project import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw", ["2026-01", "2025-10", "unstable", " 2026-07 "])
def test_valid_api_versions_are_accepted(raw):
    assert config.validate_api_version(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["2026-02", "26-01", "latest", "", "2026-1"])
def test_bad_api_version_names_the_variable_and_the_fix(raw):
    with pytest.raises(ImproperlyConfigured, match=r"SHOPIFY_API_VERSION=.*YYYY-01/04/07/10"):
        config.validate_api_version(raw)


def test_bad_boolean_is_rejected():
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        config.parse_bool("DEBUG", "maybe", default=False)
    assert config.parse_bool("DEBUG", "Yes", default=False) is True
    assert config.parse_bool("DEBUG", None, default=True) is True


def test_database_url_scheme_is_checked():
    with pytest.raises(ImproperlyConfigured, match="unsupported scheme 'mysql'"):
        config.validate_database_url("mysql://root@localhost/x")
    assert config.validate_database_url("postgres://u@h:5432/db")


def test_redis_url_scheme_is_checked():
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        config.validate_redis_url("http://localhost:6379")
    assert config.validate_redis_url("unix:///tmp/r.sock")


def test_app_url_must_be_absolute():
    with pytest.raises(ImproperlyConfigured, match="APP_URL='assetlink.example.com'"):
        config.validate_http_url("APP_URL", "assetlink.example.com")
    assert config.validate_http_url("APP_URL", "https://a.example.com/") == "https://a.example.com"


def test_encryption_keys_must_be_fernet_keys():
    with pytest.raises(ImproperlyConfigured, match="key #2 is not a Fernet key"):
        config.validate_encryption_keys("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,not-a-key")


def test_short_secret_key_is_refused_in_production():
    with pytest.raises(ImproperlyConfigured, match="at least 50"):
        config.validate_secret_key("short", production=True)
    assert config.validate_secret_key("short", production=False) == "short"


def _manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(env_overrides)
    env = {k: v for k, v in env.items() if v is not None}  # None: unset
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "ASSETLINK_PROFILE": "production",
    "SECRET_KEY": "k3y-" + "x7Qp9zR2mW5vB8nC1dF4gH6jK0lS3aE" * 2,
    "ENCRYPTION_KEYS": "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
    "SHOPIFY_API_KEY": "key",
    "SHOPIFY_API_SECRET": "secret",
    "APP_URL": "https://assetlink.example.com",
    "DATABASE_URL": "sqlite:////tmp/assetlink-deploy-check.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:6399/0",
}


@pytest.mark.slow
def test_production_profile_passes_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_production_profile_requires_its_secrets():
    env = dict(PRODUCTION_ENV)
    del env["ENCRYPTION_KEYS"]
    result = _manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "ENCRYPTION_KEYS is required" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "missing", [("DATABASE_URL",), ("REDIS_URL",), ("DATABASE_URL", "REDIS_URL")], ids="+".join
)
def test_production_profile_refuses_to_start_without_its_database_and_redis(missing):
    env = {**PRODUCTION_ENV, **dict.fromkeys(missing)}  # unset, not defaulted
    result = _manage("check", env_overrides=env)
    assert result.returncode != 0
    assert f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required" in (
        result.stderr
    )


@pytest.mark.slow
def test_bad_api_version_stops_startup_with_a_clear_error():
    result = _manage("check", env_overrides={"SHOPIFY_API_VERSION": "2026-13"})
    assert result.returncode != 0
    assert "SHOPIFY_API_VERSION='2026-13'" in result.stderr
