"""`python manage.py upload_files --workspace W --stores a,b (--assets … | --expression …)`:
upload a selection to each store's Files library. --dry-run prints what would be created,
reused or replaced per store (nothing written); otherwise one run per store is queued, --wait
follows them, --report writes the report CSV. Exit code 1 if any row failed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from assetlink_project.errors import ApplicationError, InputError
from reports.csv import stream_csv
from stores.models import Workspace
from stores.selectors import workspace_by_ref
from uploads import selectors, services

ROWS_SHOWN = 20


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = "Upload Cloudinary assets to the Files library of Shopify stores."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace id or name.")
        parser.add_argument("--stores", required=True, help="Shop domains, comma-separated.")
        selection = parser.add_mutually_exclusive_group(required=True)
        selection.add_argument("--assets", help="Cloudinary asset ids, comma-separated.")
        selection.add_argument("--expression", help="A Cloudinary search expression.")
        parser.add_argument(
            "--alt-source",
            help="keep_shopify, metadata:<id>, context:<key>, template:<text> or ai_caption "
            "(default: Setup's).",
        )
        parser.add_argument(
            "--transformation", help="Override Setup's default transformation (admins)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Show the plan, write nothing.")
        parser.add_argument("--wait", action="store_true", help="Follow the runs to their end.")
        parser.add_argument("--report", help="Write the report CSV (dry run or runs) here.")

    def handle(self, *args, **options):
        workspace = self._workspace(options["workspace"])
        data = {"stores": _split(options["stores"])}
        if options["assets"] is not None:
            data["asset_ids"] = _split(options["assets"])
        else:
            data["expression"] = options["expression"]
        if options["alt_source"]:
            source, _, name = options["alt_source"].partition(":")
            data["alt_source"], data["alt_field"] = source.strip(), name
        if options["transformation"]:
            data["transformation"] = options["transformation"]
        try:
            # The command line acts with Setup rights (whoever runs manage.py runs the server).
            batch = services.batch_create(user=_Operator(), workspace=workspace, data=data)
            batch = services.batch_dry_run(batch=batch)
        except InputError as exc:
            field = exc.extra["field"].replace("_", "-")
            raise CommandError(f"--{field}: {exc.message}") from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self._print_dry_run(batch)
        if options["dry_run"]:
            if options["report"]:
                self._write_dry_run(batch, options["report"])
            if any(
                r["action"] == "failed" for store in batch.dry_run.values() for r in store["rows"]
            ):
                raise CommandError("Some assets cannot be uploaded (see the rows marked failed).")
            return
        self._run(batch, options)

    def _run(self, batch, options) -> None:
        from reports.management.commands.runs import follow

        try:
            started = services.batch_start(batch=batch)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        for run in started:
            self.stdout.write(f"Upload run {run.pk} queued for {run.store.shop_domain}")
        if not options["wait"]:
            self.stdout.write("Follow with: python manage.py runs show <id> --wait")
            return
        ended = follow([r.pk for r in started], self.stdout)
        for run in ended:
            counts = ", ".join(
                f"{n} {action.replace('_', ' ')}" for action, n in run.summary.items()
            )
            self.stdout.write(
                f"Run {run.pk} ({run.store.shop_domain}): {run.get_status_display().lower()}"
                + (f": {counts}" if counts else "")
            )
        if options["report"]:
            with open(options["report"], "w", newline="", encoding="utf-8") as out:
                for i, run in enumerate(sorted(ended, key=lambda r: r.pk)):
                    lines = selectors.report_lines(run)
                    first = next(lines)
                    out.write(first if i == 0 else first.split("\n", 1)[1])
                    for chunk in lines:
                        out.write(chunk)
            self.stdout.write(f"Report written to {options['report']}")
        if selectors.failed_items([r.pk for r in ended]) or any(
            r.status != r.Status.SUCCEEDED for r in ended
        ):
            raise CommandError("Some assets failed or a run did not finish; see the report.")

    def _print_dry_run(self, batch) -> None:
        w = self.stdout.write
        w(f"Upload batch {batch.pk}: {len(batch.assets)} assets, transformation "
          f"{batch.transformation or '(none)'}, alt from {batch.alt_source}")  # fmt: skip
        if batch.unresolved_asset_ids:
            w(f"  not found in Cloudinary: {', '.join(batch.unresolved_asset_ids[:10])}")
        for domain, result in sorted(batch.dry_run.items()):
            counts = ", ".join(f"{k} {v}" for k, v in sorted(result["counts"].items()))
            w(f"\n{domain}: {counts or 'nothing to do'}")
            for row in result["rows"][:ROWS_SHOWN]:
                w(f"  {row['action']:9} {row.get('filename') or row['asset_id']}"
                  + (f" → {row['file_id']}" if row.get("file_id") else "")
                  + (f" ({row['error_code']})" if row.get("error_code") else ""))  # fmt: skip
            if len(result["rows"]) > ROWS_SHOWN:
                w(f"  … and {len(result['rows']) - ROWS_SHOWN} more (see --report)")

    def _write_dry_run(self, batch, path: str) -> None:
        values = (
            {"store": domain, "asset_id": r["asset_id"], "public_id": r.get("public_id", ""),
             "filename": r.get("filename", ""), "media_id": r.get("file_id", ""),
             "url": r.get("url") or r.get("source_url", ""), "action": r["action"],
             "error_code": r.get("error_code", "")}
            for domain, result in sorted(batch.dry_run.items())
            for r in result["rows"]
        )  # fmt: skip
        rows = ([v.get(c, "") for c in selectors.COLUMNS] for v in values)
        with open(path, "w", newline="", encoding="utf-8") as out:
            out.writelines(stream_csv(selectors.COLUMNS, rows))
        self.stdout.write(f"Report written to {path}")

    def _workspace(self, ref: str) -> Workspace:
        workspace = workspace_by_ref(ref)
        if workspace is None:
            raise CommandError(f"No workspace {ref!r}: give its id or exact name.")
        return workspace


class _Operator:
    """The command line's principal: the server's operator, allowed to override Setup."""

    is_authenticated = True
    is_superuser = True
