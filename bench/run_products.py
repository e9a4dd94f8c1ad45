"""Benchmark: what reading a big run's per-product work costs — planning the undo of a
2,000-product run, the handle/title/variants lookup of "unlink" on a store whose links came
from several such runs, going on with (resuming) a run, and its progress endpoint.

Per size, `--runs` ended link runs on one store, each started with ``runs.run_start`` (the run's
work written as production writes it), every product done with its gallery before and after,
a report row and a link record per new media. Beside them, the same runs in the layout of
runs started before RunProduct.work (every product's work in one ``Run.work`` JSON document):
the baseline, read through the same code. Per measure the median of `--repeat` in ms and the
database queries of one.

    .venv/bin/python -m bench.run_products [--sizes 100,2000,10000] [--runs 3] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.harness import Timings, member_client, start_django

PER_PRODUCT = 5


def _state(product: str, media: list[str]) -> dict:
    return {
        "product_id": product,
        "gallery": [{"media_id": m, "status": "READY", "alt": None, "media_type": "IMAGE",
                     "record": None} for m in media],
        "variant_images": {},
        "swatch_refs": {},
    }  # fmt: skip


def make_run(store, products: int, tag: str, legacy: bool):
    """An ended run of ``products`` products (new media linked to each), as a worker leaves it;
    ``legacy``: its work in the layout of runs started before RunProduct.work."""
    from django.utils import timezone

    from linking import runs
    from linking.core import AssetToLink, LinkSettings
    from linking.executor import ProductWork
    from linking.models import LinkRecord
    from reports.models import ReportRow, Run, RunProduct

    works = [
        ProductWork(
            f"gid://shopify/Product/{p}",
            [AssetToLink(f"{tag}-a{p}-{i}", 1, "", None, "IMAGE", f"bench/{tag}{p}_{i}", f"S{p}")
             for i in range(PER_PRODUCT)],
            LinkSettings(),
            [f"gid://shopify/ProductVariant/{p}"],
            handle=f"product-{p}",
            title=f"Product {p}",
            planned_media=[f"gid://shopify/MediaImage/{p}-0"],
        )
        for p in range(products)
    ]  # fmt: skip
    urls = {
        runs.identity_key(a.asset_id, a.version, a.transformation): f"https://x/{a.public_id}.jpg"
        for w in works
        for a in w.assets
    }
    run = runs.run_start(store=store, works=works, urls=urls, enqueue=False)
    if legacy:
        products_json = [runs.work_to_json(w) for w in works]
        Run.objects.filter(pk=run.pk).update(work={**run.work, "products": products_json})
        if hasattr(RunProduct, "work"):  # a checkout before RunProduct.work has no such field
            RunProduct.objects.filter(run=run).update(work=None)
    new = {w.product_id: [f"gid://shopify/MediaImage/{tag}-{w.product_id[22:]}-{i}"
                          for i in range(PER_PRODUCT)] for w in works}  # fmt: skip
    rows = list(RunProduct.objects.filter(run=run))
    for row in rows:
        old = [f"gid://shopify/MediaImage/{row.product_id[22:]}-0"]
        row.status = RunProduct.Status.DONE
        row.before = _state(row.product_id, old)
        row.after = _state(row.product_id, old + new[row.product_id])
    RunProduct.objects.bulk_update(rows, ["status", "before", "after"], batch_size=500)
    ReportRow.objects.bulk_create(
        [ReportRow(run=run, seq=n, product_id=w.product_id, asset_id=a.asset_id,
                   action="created", media_id=new[w.product_id][i])
         for n, (w, i, a) in enumerate(
             ((w, i, a) for w in works for i, a in enumerate(w.assets)), start=1)],
        batch_size=2000,
    )  # fmt: skip
    LinkRecord.objects.bulk_create(
        [LinkRecord(store=store, media_id=new[w.product_id][i], product_id=w.product_id,
                    asset_id=a.asset_id, version=1, run_id=run.pk)
         for w in works for i, a in enumerate(w.assets)],
        batch_size=2000,
    )  # fmt: skip
    Run.objects.filter(pk=run.pk).update(status=Run.Status.SUCCEEDED, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def measure(timings: Timings, repeat: int, fn) -> tuple[float, int]:
    """Median ms of ``repeat`` calls of ``fn`` and the database queries of one."""
    with timings.measure() as spent:
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), int(spent["db#"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,2000,10000")
    parser.add_argument("--runs", type=int, default=3, help="earlier runs on the store")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start_django("run_products")
    from django.db import transaction
    from django.utils import timezone

    from linking import manage, runs
    from linking.models import LinkRecord
    from reports.models import Run
    from stores.models import Store

    workspace, _, client = member_client("run-products")
    timings = Timings().install()

    def undo(run):
        with transaction.atomic():  # planned and written, then thrown away: the next repeat
            runs.run_undo(run=run, enqueue=False)
            transaction.set_rollback(True)

    def resume(run):
        # What a worker reads before its first call: the products left and their work.
        Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING)
        run.refresh_from_db()
        with transaction.atomic():
            run.products.update(status="pending")
            runs.works_to_do(run) if hasattr(runs, "works_to_do") else _old_resume(run)
            transaction.set_rollback(True)
        Run.objects.filter(pk=run.pk).update(status=Run.Status.SUCCEEDED)

    print(f"{'measure':<44}{'products':>9}{'layout':>8}{'median ms':>11}{'queries':>9}")
    for size in [int(s) for s in args.sizes.split(",")]:
        for legacy in (True, False):
            layout = "old" if legacy else "ours"
            store = Store.objects.create(
                workspace=workspace, shop_domain=f"bench-rp-{size}-{layout}.myshopify.com",
                access_token="bench-token", installed_at=timezone.now(),
            )  # fmt: skip
            made = [make_run(store, size, f"r{n}", legacy) for n in range(args.runs)]
            last = made[-1]
            one = list(LinkRecord.objects.filter(store=store, run_id=last.pk)[:PER_PRODUCT])
            spread = list(LinkRecord.objects.filter(store=store).order_by("?")[:500])
            figures = [
                ("plan the undo of a run", lambda last=last: undo(last)),
                ("unlink lookup: 1 product's links", lambda one=one: manage._products(one)),
                (
                    f"unlink lookup: 500 links of {args.runs} runs",
                    lambda spread=spread: manage._products(spread),
                ),
                ("resume: read the products left", lambda last=last: resume(last)),
                ("GET /api/runs/{id}/", lambda last=last: client.get(f"/api/runs/{last.pk}/")),
            ]
            for name, fn in figures:
                median, queries = measure(timings, args.repeat, fn)
                print(f"{name:<44}{size:>9}{layout:>8}{median:>11.1f}{queries:>9}")


def _old_resume(run):
    """Before ``works_to_do``: what ``_execute_locked`` read to build the work left."""
    from linking import runs
    from linking.executor import state_from_json

    products = {p.product_id: p for p in run.products.all()}
    works = []
    for data in run.work.get("products") or ():
        product = products.get(data["product_id"])
        work = runs.work_from_json(data)
        work.original_before = state_from_json(product.before)
        works.append(work)
    return works


if __name__ == "__main__":
    main()
