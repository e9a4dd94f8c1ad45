"""The seeded demo library and the control API."""

from __future__ import annotations

import time

import cloudinary
import cloudinary.api
import pytest
import requests

from sandbox.cloudinary.seed import plan_groups, seed_library
from sandbox.cloudinary.server import make_app, parse_pipe
from sandbox.cloudinary.state import State


def seeded(n, seed=42, **kw):
    state = State()
    cloud = state.create_cloud("demo", "k", "s")
    summary = seed_library(state, cloud, n, seed=seed, **kw)
    return cloud, summary


def snapshot(cloud):
    return [
        (a.asset_id, a.public_id, a.resource_type, a.version, a.tags, a.context, a.metadata)
        for a in cloud.assets.values()
    ]


def test_seeding_is_deterministic():
    a, _ = seeded(300, seed=5)
    b, _ = seeded(300, seed=5)
    c, _ = seeded(300, seed=6)
    assert snapshot(a) == snapshot(b)
    assert snapshot(a) != snapshot(c)


@pytest.mark.parametrize("n", [10, 57, 1000])
def test_library_layout(n):
    cloud, summary = seeded(n)
    assets = list(cloud.assets.values())
    assert len(assets) == n == summary["assets"]
    videos = [a for a in assets if a.resource_type == "video"]
    ungrouped = [a for a in assets if not a.metadata.get("sku")]
    assert len(videos) == summary["videos"] >= 1
    assert len(ungrouped) == summary["ungrouped"] >= 1
    groups = {}
    for a in assets:
        if a.metadata.get("sku"):
            groups.setdefault(a.metadata["sku"], []).append(a)
    plan = plan_groups(n)
    assert [g.sku for g in plan] == sorted(groups)
    for g in plan:
        members = groups[g.sku]
        assert 1 <= len(members) <= 6 and len(members) == g.size
        assert sorted(m.metadata["sequence_number"] for m in members) == list(range(1, g.size + 1))
        assert {m.asset_folder for m in members} == {f"products/{g.category}"}
    assert all(len(a.asset_id) == 32 for a in assets)
    assert len({a.public_id for a in assets}) == n
    # every enum value is a datasource id of its field
    for a in assets:
        for field in ("asset_type", "color"):
            if field in a.metadata:
                assert cloud.datasource_label(field, a.metadata[field])


def test_sku_pattern():
    cloud, _ = seeded(30, sku_pattern="AB-{n:03d}")
    skus = {a.metadata.get("sku") for a in cloud.assets.values()} - {None}
    assert "AB-001" in skus and all(s.startswith("AB-") for s in skus)


def test_100k_assets_seed_in_a_few_seconds():
    started = time.perf_counter()
    cloud, summary = seeded(100_000)
    assert summary["assets"] == 100_000 and summary["skus"] > 20_000
    assert time.perf_counter() - started < 10
    app = make_app(state=State())
    app.state.clouds["demo"] = cloud
    # batch lookups by asset id stay fast on the big library
    some = list(cloud.assets)[:500:5]
    started = time.perf_counter()
    found = app._search_ids(
        cloud, " OR ".join(f"asset_id={i}" for i in some), [("created_at", "desc")]
    )
    assert set(found) == set(some)
    assert time.perf_counter() - started < 1


def test_parse_pipe_encoding():
    assert parse_pipe(r"alt=a \= b \| c|caption=x") == {"alt": "a = b | c", "caption": "x"}
    assert parse_pipe('channels=["a","b"]|n=3') == {"channels": ["a", "b"], "n": "3"}
    assert parse_pipe("") == {}


# -- control API ----------------------------------------------------------------------------
def test_control_create_seed_inspect_and_delete_cloud(emulator):
    url = f"{emulator.url}/_control"
    r = requests.post(
        f"{url}/clouds",
        json={
            "cloud_name": "ctl1",
            "api_key": "k1",
            "api_secret": "s1",
            "rate_limit": 50,
            "seed": {"n_assets": 40, "seed": 3, "sku_pattern": "X-{n:04d}"},
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["assets"] == 40 and info["rate_limit"]["limit"] == 50
    assert (
        requests.post(f"{url}/clouds", json={"cloud_name": "ctl1"}, timeout=10).status_code == 409
    )
    skus = requests.get(f"{url}/clouds/ctl1/skus", timeout=10).json()
    assert skus["skus"][0]["sku"] == "X-0001" and skus["count"] == len(plan_groups(40, 3))
    assert sum(s["assets"] for s in skus["skus"]) + skus["ungrouped_assets"] == 40
    cloudinary.config(cloud_name="ctl1", api_key="k1", api_secret="s1", upload_prefix=emulator.url)
    try:
        assert cloudinary.Search().expression("metadata.sku=X-0001").execute()["total_count"] >= 1
    finally:
        cloudinary.reset_config()
    r = requests.post(f"{url}/clouds/ctl1/seed", json={"n_assets": 12, "seed": 1}, timeout=10)
    assert r.json()["assets"] == 12
    assert requests.get(f"{url}/clouds/ctl1", timeout=10).json()["assets"] == 12
    assert requests.delete(f"{url}/clouds/ctl1", timeout=10).ok
    assert requests.get(f"{url}/clouds/ctl1", timeout=10).status_code == 404


def test_control_add_asset_and_new_version(cloud):
    body = {
        "public_id": "products/shoes/new_one",
        "tags": ["ss26"],
        "context": {"alt": "New"},
        "metadata": {"sku": "SKU-99999", "sequence_number": 1, "color": "color_01"},
        "width": 640,
        "height": 480,
    }
    r = cloud.control("POST", f"clouds/{cloud.name}/assets", json=body)
    assert r.status_code == 201, r.text
    asset = r.json()["asset"]
    assert asset["metadata"]["sku"] == "SKU-99999"
    found = cloudinary.Search().expression("metadata.sku=SKU-99999").execute()
    assert [x["asset_id"] for x in found["resources"]] == [asset["asset_id"]]
    cloud.control("POST", "clock", json={"advance": 10})
    try:
        r = cloud.control("POST", f"clouds/{cloud.name}/assets", json={**body, "width": 800})
    finally:
        cloud.control("POST", "clock", json={"offset": 0})
    again = r.json()
    assert r.status_code == 200 and not again["created"]
    assert again["asset"]["asset_id"] == asset["asset_id"]
    assert again["asset"]["version"] > asset["version"] and again["asset"]["width"] == 800
    bad = cloud.control(
        "POST", f"clouds/{cloud.name}/assets", json={"public_id": "x", "metadata": {"color": "Red"}}
    )
    assert bad.status_code == 400 and "error" in bad.json()
    gone = cloud.control("DELETE", f"clouds/{cloud.name}/assets/{asset['asset_id']}")
    assert gone.ok
    with pytest.raises(cloudinary.exceptions.NotFound):
        cloudinary.api.resource_by_asset_id(asset["asset_id"])


def test_control_rate_limit_inspect_and_lower(cloud):
    r = cloud.control("POST", f"clouds/{cloud.name}/rate_limit", json={"limit": 10, "remaining": 1})
    assert r.json()["remaining"] == 1
    cloudinary.api.ping()
    with pytest.raises(cloudinary.exceptions.RateLimited):
        cloudinary.api.ping()
    assert cloud.control("GET", f"clouds/{cloud.name}/rate_limit").json()["remaining"] == 0


def test_control_help_and_unknown(emulator):
    assert "POST   /_control/clouds" in requests.get(f"{emulator.url}/_control/", timeout=10).text
    assert requests.get(f"{emulator.url}/_control/nope", timeout=10).status_code == 404


def test_make_app_defaults_and_reset(monkeypatch):
    monkeypatch.setenv("SANDBOX_CLOUDINARY_CLOUD", "envcloud")
    monkeypatch.setenv("SANDBOX_CLOUDINARY_ASSETS", "20")
    app = make_app()
    cloud = app.state.cloud("envcloud")
    assert cloud.api_key == "sandbox-key" and len(cloud.assets) == 20
    app.state.create_cloud("extra", "a", "b")
    app.reset()
    assert list(app.state.clouds) == ["envcloud"]


def test_reseeding_without_replace_keeps_one_asset_per_public_id():
    cloud, _ = seeded(40, seed=1)
    state = State()
    state.clouds["demo"] = cloud
    seed_library(state, cloud, 40, seed=2, replace=False)
    assert len(cloud.by_public_id) == len(cloud.assets)
    assert set(cloud.by_public_id.values()) == set(cloud.assets)
