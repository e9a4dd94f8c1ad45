"""`manage.py link … --dry-run` against both emulators."""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import CommandError, call_command


def link(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("link", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def store(sandbox):
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=3)


def test_dry_run_prints_statistics_and_summary_and_writes_the_report(sandbox, store, tmp_path):
    report = tmp_path / "dry-run.csv"
    out = link(
        "--workspace", sandbox.workspace.name, "--stores", store.shop_domain,
        "--expression", "folder:products/*", "--cloudinary-field", "metadata:sku",
        "--shopify-field", "variant.sku", "--mode", "prepend", "--dry-run",
        "--report", str(report),
    )  # fmt: skip
    skus = sandbox.skus()
    assert f"products matched: {len(skus) - 2}" in out
    assert "groups unmatched: 2" in out
    assert "catalog: search" in out
    assert "Link " in out and "nothing written" in out
    assert "3 → " in out  # every product's gallery before has 3 media
    rows = list(csv.DictReader(report.open()))
    assert {"created", "unmatched"} <= {r["action"] for r in rows}
    assert f"{len(rows)} rows written" in out


def test_json_output_for_several_stores(sandbox, store):
    second = sandbox.shop(products=3, media_per_product=0)
    out = link(
        "--workspace", str(sandbox.workspace.pk), "--stores",
        f"{store.shop_domain},{second.shop_domain}", "--expression", "folder:products/*",
        "--cloudinary-field", "metadata:sku", "--shopify-field", "variant.sku",
        "--mode", "position", "--position", "2", "--dry-run", "--json",
    )  # fmt: skip
    data = json.loads(out)
    stats = {s["store"]: s["statistics"] for s in data["stores"]}
    assert stats[second.shop_domain]["products_matched"] == 3
    assert stats[store.shop_domain]["products_matched"] == len(sandbox.skus()) - 2
    assert data["products"] == len(sandbox.skus()) - 2 + 3


def test_asset_ids_selection(sandbox, store):
    assets = sandbox.assets("metadata.sku=SKU-00004")
    out = link(
        "--workspace", sandbox.workspace.name, "--stores", store.shop_domain,
        "--assets", ",".join(a["asset_id"] for a in assets), "--cloudinary-field",
        "metadata:sku", "--shopify-field", "variant.sku", "--mode", "reset", "--dry-run",
        "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["groups"] == 1 and data["products"] == 1
    assert data["assets"] == len(assets)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--mode", "position", "--position", "0"], "--position: Position 0"),
        (["--mode", "append", "--order-field", "metadata:channels"], "--order-field"),
        (["--mode", "append", "--cloudinary-field", "metadata:nope"], "--cloudinary-field"),
        (["--mode", "append", "--alt-source", "template:{nope}"], "--alt-source"),
    ],
)
def test_bad_configurations_fail_with_the_flag_and_the_fix(sandbox, store, args, words):
    with pytest.raises(CommandError) as exc:
        link(
            "--workspace", sandbox.workspace.name, "--stores", store.shop_domain,
            "--expression", "folder:products/*", "--shopify-field", "variant.sku",
            "--dry-run", *args,
        )  # fmt: skip
    assert words in str(exc.value)


def test_a_store_of_another_workspace_is_refused(sandbox):
    with pytest.raises(CommandError, match="not found"):
        link(
            "--workspace", sandbox.workspace.name, "--stores", "elsewhere.myshopify.com",
            "--expression", "folder:products/*", "--mode", "append", "--dry-run",
        )  # fmt: skip


def test_transformation_for_one_batch_shows_in_the_dry_run_and_the_report(sandbox, store, tmp_path):
    report = tmp_path / "dry-run.csv"
    out = link(
        "--workspace", sandbox.workspace.name, "--stores", store.shop_domain,
        "--expression", "folder:products/*", "--cloudinary-field", "metadata:sku",
        "--shopify-field", "variant.sku", "--mode", "append", "--dry-run",
        "--transformation", "c_limit,w_1000", "--report", str(report),
    )  # fmt: skip
    assert "Image transformation: c_limit,w_1000 (this batch)" in out
    rows = list(csv.DictReader(report.open()))
    created = [r for r in rows if r["action"] == "created"]
    assert created and {r["transformation"] for r in created} <= {"c_limit,w_1000", ""}
    assert any(r["transformation"] == "c_limit,w_1000" for r in created)
    assert all(r["transformation"] == "" for r in rows if r["action"] == "unmatched")
    with pytest.raises(CommandError, match=r"--transformation: 'wdth' \(in 'wdth_100'\)"):
        link(
            "--workspace", sandbox.workspace.name, "--stores", store.shop_domain,
            "--expression", "folder:products/*", "--dry-run", "--transformation", "wdth_100",
        )  # fmt: skip


def test_help_says_what_runs_and_what_does_not():
    from linking.management.commands.link import Command

    parser = Command().create_parser("manage.py", "link")
    text = parser.format_help()
    assert "With --dry-run nothing is written" in " ".join(text.split())
    assert "--transformation" in text
