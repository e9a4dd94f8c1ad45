"""`make demo` end to end: emulators, app and worker start, the demo stores are installed, the
login works, and Ctrl-C stops every process the demo started."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_starts_everything_and_ctrl_c_stops_it(tmp_path):
    app, shopify, cloudinary = _free_port(), _free_port(), _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        ASSETLINK_VAR_DIR=str(tmp_path / "var"),
        DEMO_PORT=str(app),
        SANDBOX_SHOPIFY_PORT=str(shopify),
        SANDBOX_CLOUDINARY_PORT=str(cloudinary),
        SANDBOX_CLOUDINARY_ASSETS="120",
    )
    demo = subprocess.Popen(
        [sys.executable, "-m", "assetlink_project.demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(output)
        assert "AssetLink demo is running" in text, text[-3000:]
        assert "demo-1.myshopify.com, demo-2.myshopify.com (installed through OAuth)" in text
        base = f"http://127.0.0.1:{app}"
        assert requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        session = requests.Session()
        login = session.get(f"{base}/admin/login/", timeout=5)
        assert login.status_code == 200
        token = session.cookies["csrftoken"]
        done = session.post(
            f"{base}/admin/login/?next=/admin/",
            data={"username": "admin", "password": "assetlink-demo", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/admin/login/"},
            timeout=10,
        )
        assert (
            done.status_code == 200
            and "demo-1.myshopify.com"
            in session.get(f"{base}/admin/stores/store/", timeout=10).text
        )
        shops = requests.get(f"http://127.0.0.1:{shopify}/_control/shops", timeout=5).json()
        assert {s["domain"] for s in shops["shops"]} == {
            "demo-1.myshopify.com",
            "demo-2.myshopify.com",
            "demo-3.myshopify.com",  # seeded for Setup's "Connect a store", not installed
        }
        assert "connect demo-3.myshopify.com: Setup" in text
        assert all(s["products_count"] > 10 for s in shops["shops"])
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            raise
    # Nothing the demo started is left: no process in its session, no server on its ports.
    time.sleep(0.5)
    leftover = subprocess.run(
        ["pgrep", "-s", str(demo.pid)], capture_output=True, text=True
    ).stdout.split()
    assert leftover == []
    for port in (app, shopify, cloudinary):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
