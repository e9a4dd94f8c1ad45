"""`python manage.py link … --dry-run`: plan a link from the command line, print the match
statistics and the plan summary, and write the dry-run report CSV. Without --dry-run the plan
then runs on every store (`--wait` follows it; the exit code is non-zero if any row failed)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from assetlink_project.errors import ApplicationError, InputError
from common.link_modes import LinkMode
from linking import selectors, services
from stores.models import Workspace
from stores.selectors import workspace_by_ref

PRODUCT_LINES = 20
ALT_SOURCES = "keep_shopify, metadata:<id>, context:<key>, template:<text>, ai_caption"


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _alt(text: str) -> tuple[str, str]:
    source, _, name = text.partition(":")
    return source.strip(), name


class Command(BaseCommand):
    help = (
        "Link Cloudinary assets to Shopify product galleries: plan and show the dry run (match "
        "statistics, plan summary, report CSV), then run it on every store. With --dry-run "
        "nothing is written to Shopify."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace id or name.")
        parser.add_argument("--stores", required=True, help="Shop domains, comma-separated.")
        selection = parser.add_mutually_exclusive_group(required=True)
        selection.add_argument("--assets", help="Cloudinary asset ids, comma-separated.")
        selection.add_argument("--expression", help="A Cloudinary search expression.")
        parser.add_argument("--cloudinary-field", help="e.g. metadata:sku (default: Setup's).")
        parser.add_argument("--shopify-field", help="e.g. variant.sku (default: Setup's).")
        parser.add_argument("--mode", choices=[m.value for m in LinkMode])
        parser.add_argument("--position", type=int, help="1-based, for --mode position.")
        parser.add_argument("--order-field", help="e.g. metadata:sequence_number.")
        parser.add_argument("--alt-source", help=f"One of {ALT_SOURCES}.")
        parser.add_argument(
            "--transformation",
            help="Image transformation for this batch in Cloudinary syntax, e.g. "
            "c_limit,w_2048,q_auto (default: Setup's default image transformation).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Plan only, write nothing.")
        parser.add_argument("--report", help="Write the dry-run report CSV to this path.")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
        parser.add_argument(
            "--wait", action="store_true", help="Real run: follow it with a progress bar."
        )

    def handle(self, *args, **options):
        workspace = self._workspace(options["workspace"])
        data = {
            "stores": _split(options["stores"]),
            "cloudinary_field": options["cloudinary_field"],
            "shopify_field": options["shopify_field"],
            "link_mode": options["mode"],
            "position": options["position"],
            "order_field": options["order_field"],
            "image_transformation": options["transformation"],
        }
        if options["assets"] is not None:
            data["asset_ids"] = _split(options["assets"])
        else:
            data["expression"] = options["expression"]
        if options["alt_source"]:
            data["alt_source"], data["alt_field"] = _alt(options["alt_source"])
        data = {k: v for k, v in data.items() if v is not None}
        try:
            plan = services.plan_create(user=None, workspace=workspace, data=data)
            plan = services.plan_dry_run(plan=plan)
        except InputError as exc:
            flag = {"image_transformation": "transformation"}.get(exc.field, exc.field)
            raise CommandError(f"--{flag.replace('_', '-')}: {exc.message}") from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        summary = selectors.plan_summary(plan)
        rows = None
        if options["report"]:
            with open(options["report"], "w", newline="", encoding="utf-8") as out:
                rows = selectors.write_report_csv(plan, out)
        if options["json"]:
            self.stdout.write(json.dumps({"plan": plan.pk, **summary}, indent=2))
        else:
            self._print(plan, summary)
            if rows is not None:
                self.stdout.write(f"Report: {rows} rows written to {options['report']}")
        if plan.status == plan.Status.FAILED:
            raise CommandError(f"The dry run failed: {plan.error}")
        if not options["dry_run"]:
            self._run(plan, options)

    # --- real runs (issue #8): after the dry run, one run per store ---------------------------

    def _run(self, plan, options) -> None:
        from linking import runs
        from reports.management.commands.runs import failed_rows, follow

        started = []
        for store in plan.stores.order_by("shop_domain"):
            try:
                run = runs.run_start_from_plan(plan=plan, store=store)
            except ApplicationError as exc:
                self.stderr.write(f"{store.shop_domain}: {exc.message}")
                continue
            started.append(run)
            self.stdout.write(f"Run {run.pk} queued for {store.shop_domain}")
        if not started:
            raise CommandError("No run was started.")
        if not options["wait"]:
            self.stdout.write("Follow with: python manage.py runs show <id> --wait")
            return
        ended = follow([r.pk for r in started], self.stdout)
        for run in ended:
            self.stdout.write(f"Run {run.pk} ({run.store.shop_domain}): {run.status} "
                              f"{json.dumps(run.summary)}")  # fmt: skip
        if failed_rows(ended) or any(r.status != r.Status.SUCCEEDED for r in ended):
            raise CommandError("Some rows failed or a run did not finish; see `runs report`.")

    def _workspace(self, ref: str) -> Workspace:
        workspace = workspace_by_ref(ref)
        if workspace is None:
            raise CommandError(f"No workspace {ref!r}: give its id or exact name.")
        return workspace

    def _print(self, plan, summary: dict) -> None:
        w = self.stdout.write
        w(f"Plan {plan.pk}: {plan.link_mode}"
          + (f" at position {plan.position}" if plan.position else "")
          + f", {plan.cloudinary_field} → {plan.shopify_field}")  # fmt: skip
        w(f"Assets read from Cloudinary: {plan.assets_resolved}"
          + (f" ({len(plan.unresolved_asset_ids)} ids not found: "
             f"{', '.join(plan.unresolved_asset_ids[:5])})" if plan.unresolved_asset_ids else ""))  # fmt: skip
        transformation = summary["image_transformation"]
        w(f"Image transformation: {transformation['value'] or '(none)'} "
          f"({'this batch' if transformation['source'] == 'batch' else 'Setup default'})")  # fmt: skip
        first = {
            r["store"]: r["products"]
            for r in selectors.plan_result_page(plan, page_size=PRODUCT_LINES)
        }
        for store in summary["stores"]:
            stats = store["statistics"]
            w(f"\n{store['store']}")
            if store["error"]:
                w(f"  error: {store['error']}")
                continue
            w(f"  catalog: {store['catalog_path']} ({store['catalog_reason']})")
            w(f"  products matched: {stats.get('products_matched', 0)}")
            w(f"  groups matched: {stats.get('groups_matched', 0)}")
            w(f"  groups unmatched: {stats.get('groups_unmatched', 0)}")
            w(f"  products matched by several groups: "
              f"{stats.get('products_matched_by_several_groups', 0)}")  # fmt: skip
            w(f"  products to change: {store['products_changed']}, "
              f"operations: {store['operations']}")  # fmt: skip
            w(f"  Shopify: {store['shopify_calls']} calls, {store['shopify_points']:.0f} points")
            for product in first[store["store"]]:
                ops = product["operations"]
                w(f"    {product['handle'] or product['product_id']}: "
                  f"{len(product['before'])} → {len(product['after'])} media "
                  f"(+{len(ops['creates'])} new, -{len(ops['unlinks'])} unlinked, "
                  f"{len(ops['moves'])} moves)"
                  + (f" — {'; '.join(product['warnings'])}" if product["warnings"] else ""))  # fmt: skip
            if store["product_count"] > PRODUCT_LINES:
                w(
                    f"    … and {store['product_count'] - PRODUCT_LINES} more products (see --report)"
                )
        w(f"\n{summary['button']} ({summary['operations']} operations; dry run, nothing written)")
