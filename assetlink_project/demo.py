"""`make demo`: emulators + app + worker with demo data, on embedded defaults. Ctrl-C stops all.

Starts (as child processes) the sandbox emulators, the Django app, an RQ worker for the runs and
one for dry runs; migrates;
seeds the demo (see `assetlink_project.demo_seed`); prints the URL and the login.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import requests

from assetlink_project.processes import ROOT, Children

HOST = os.environ.get("DEMO_HOST", "127.0.0.1")
APP_PORT = int(os.environ.get("DEMO_PORT", "8000"))
SHOPIFY_PORT = int(os.environ.get("SANDBOX_SHOPIFY_PORT", "8701"))
CLOUDINARY_PORT = int(os.environ.get("SANDBOX_CLOUDINARY_PORT", "8702"))


def demo_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "assetlink_project.settings")
    env.setdefault("APP_URL", f"http://{HOST}:{APP_PORT}")
    env.setdefault("SHOPIFY_ADMIN_BASE_URL", f"http://{HOST}:{SHOPIFY_PORT}/{{shop}}")
    env.setdefault("CLOUDINARY_API_BASE_URL", f"http://{HOST}:{CLOUDINARY_PORT}")
    env.setdefault("SANDBOX_SHOPIFY_PORT", str(SHOPIFY_PORT))
    env.setdefault("SANDBOX_CLOUDINARY_PORT", str(CLOUDINARY_PORT))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_for(url: str, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start within {timeout:.0f} s ({url}).")


def main() -> None:
    env = demo_environment()
    os.environ.update(env)
    children = Children(env)

    # Stop the embedded Redis at the end only if this demo is the one that starts it.
    redis_dir = Path(os.environ.get("ASSETLINK_VAR_DIR", ROOT / "var")) / "redis"
    from assetlink_project import embedded_redis

    owns_redis = not os.environ.get("REDIS_URL") and not embedded_redis.is_running(redis_dir)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        children.run("manage.py", "migrate", "--noinput", "-v", "0")
        children.start("-m", "sandbox")
        wait_for(f"http://{HOST}:{SHOPIFY_PORT}/_control/health", "Shopify emulator")
        wait_for(f"http://{HOST}:{CLOUDINARY_PORT}/_control/clouds", "Cloudinary emulator")
        import django

        django.setup()
        embedded_redis.start_if_embedded()
        from django.conf import settings

        from assetlink_project import demo_seed

        credentials = demo_seed.seed(
            shopify_url=f"http://{HOST}:{SHOPIFY_PORT}",
            cloudinary_url=f"http://{HOST}:{CLOUDINARY_PORT}",
            app_url=env["APP_URL"],
        )
        children.start("manage.py", "runserver", f"{HOST}:{APP_PORT}", "--noreload")
        # One worker for the runs, one of their own for dry runs (as in production: a dry run
        # starts at once however long a run is).
        children.start("manage.py", "worker", "--queues", "links,uploads,default")
        children.start("manage.py", "worker", "--queues", "dry_runs")
        wait_for(f"http://{HOST}:{APP_PORT}/healthz", "AssetLink app")
        print(
            "\nAssetLink demo is running:\n"
            f"  app:         {env['APP_URL']}/\n"
            f"  admin login: {credentials['username']} / {credentials['password']}"
            " (Master Admin)\n"
            f"  user login:  {credentials['user'][0]} / {credentials['user'][1]} (User)\n"
            f"  stores:      {', '.join(credentials['stores'])} (installed through OAuth)\n"
            f"  connect {credentials['connectable']}: Setup → Stores → Connect a store\n"
            f"  embedded:    http://{HOST}:{SHOPIFY_PORT}/{credentials['stores'][0]}/admin/apps/"
            f"{settings.SHOPIFY_API_KEY} (the shop's admin with the app inside)\n"
            f"  Django admin: {env['APP_URL']}/admin/\n"
            f"  API docs:    {env['APP_URL']}/api/docs/\n"
            f"  Shopify emulator:    http://{HOST}:{SHOPIFY_PORT}/_control/shops\n"
            f"  Cloudinary emulator: http://{HOST}:{CLOUDINARY_PORT}/_control/clouds\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        while children.all_alive():
            time.sleep(0.5)
        print("A demo process exited; stopping the rest.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping the demo…", flush=True)
    finally:
        children.stop_all()
        if owns_redis:
            embedded_redis.stop(redis_dir)


if __name__ == "__main__":
    main()
