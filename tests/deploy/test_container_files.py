"""The container files are linted (hadolint) and hold what docs/deploy.md promises: a non-root
image with a health check, compose services for every process, workers for every queue."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_a_numeric_non_root_user_with_a_health_check():
    instructions = _instructions()
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    health = [arg for op, arg in instructions if op == "HEALTHCHECK"]
    assert health and "assetlink_project.healthcheck" in health[0]
    cmd = [arg for op, arg in instructions if op == "CMD"][-1]
    assert "gunicorn" in cmd
    assert any("collectstatic" in arg for op, arg in instructions if op == "RUN")


def test_image_copies_every_package_it_installs():
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    copied = {arg.split()[0] for op, arg in _instructions() if op == "COPY"}
    for pattern in packages:
        assert pattern.rstrip("*") in copied, f"{pattern} is not copied into the image"


def test_compose_has_every_process_with_health_checks():
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "sandbox"} <= set(services)
    for name in ("postgres", "redis", "web", "sandbox"):
        assert services[name]["healthcheck"]["test"], name
    for name, service in services.items():
        for needed, condition in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on an unknown service {needed}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], needed
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")


def test_compose_and_procfile_run_a_worker_for_every_queue():
    worker_queues = set()
    for service in _compose()["services"].values():
        command = service.get("command") or []
        if command[1:3] == ["manage.py", "worker"]:
            worker_queues.update(command[command.index("--queues") + 1].split(","))
    assert worker_queues == set(settings.RQ_QUEUES)
    procfile = (ROOT / "Procfile").read_text()
    assert set(re.findall(r"worker --queues (\w+)", procfile)) == set(settings.RQ_QUEUES)
    assert re.search(r"^web: .*gunicorn assetlink_project\.wsgi", procfile, re.M)
