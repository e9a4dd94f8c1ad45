"""`python manage.py runs {list,show,abort,resume,undo,report}`: runs of every kind (link, undo,
upload) from the command line."""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from assetlink_project.errors import ApplicationError
from reports import csv as report_csv
from reports import engine
from reports.models import Run
from reports.registry import abort_run, undo_run

BAR = 30


def progress_line(p: dict) -> str:
    total = p["ops_total"] or 0
    products = p["products_total"] or 0
    share = (p["products_done"] / products) if products else (1.0 if p["status"] != "queued" else 0)
    if total and p["ops_done"] < total:
        share = min(share, p["ops_done"] / total) if share else p["ops_done"] / total
    filled = int(BAR * min(1.0, share))
    eta = p.get("eta_seconds")
    return (
        f"run {p['id']} {p['store']} [{'#' * filled}{'.' * (BAR - filled)}] {share:4.0%} "
        f"{p['phase'] or p['status']}: products {p['products_done']}/{products}, "
        f"operations {p['ops_done']}/{total}, failures {p['failures']}, "
        f"points {p['points_actual']}" + (f", ~{eta:.0f}s left" if eta else "")
    )


def follow(run_ids: list[int], out, *, interval: float = 0.5) -> list[Run]:
    """Print a progress bar per run until every run has ended; return the runs."""
    tty = getattr(out, "isatty", lambda: False)()
    last = {}
    while True:
        current = list(Run.objects.select_related("store").filter(pk__in=run_ids))
        lines = []
        for run in sorted(current, key=lambda r: r.pk):
            line = progress_line(engine.run_progress(run))
            if tty or last.get(run.pk) != line:
                lines.append(line)
            last[run.pk] = line
        if lines:
            out.write(
                ("\r" if tty and len(lines) == 1 else "")
                + "\n".join(lines)
                + ("" if tty and len(lines) == 1 else "\n")
            )
            out.flush()
        if all(r.is_terminal for r in current):
            if tty:
                out.write("\n")
            return current
        time.sleep(interval)


def failed_rows(run_list: list[Run]) -> int:
    return sum(r.rows.filter(action="failed").count() for r in run_list)


class Command(BaseCommand):
    help = "List, show, abort, resume, undo link runs and export their reports."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Runs, newest first.")
        listing.add_argument("--store", help="Shop domain.")
        listing.add_argument("--status", choices=[s.value for s in Run.Status])
        listing.add_argument("--limit", type=int, default=20)
        show = sub.add_parser("show", help="A run's progress and summary.")
        show.add_argument("run", type=int)
        show.add_argument("--json", action="store_true")
        show.add_argument("--wait", action="store_true", help="Follow it with a progress bar.")
        abort = sub.add_parser("abort", help="Stop at the next product boundary.")
        abort.add_argument("run", type=int)
        abort.add_argument("--wait", action="store_true")
        resume = sub.add_parser("resume", help="Go on with a run whose worker died.")
        resume.add_argument("run", type=int, nargs="?")
        resume.add_argument("--dead", action="store_true", help="Every run whose worker died.")
        resume.add_argument("--wait", action="store_true")
        undo = sub.add_parser("undo", help="Give every product the run touched its gallery back.")
        undo.add_argument("run", type=int)
        undo.add_argument("--wait", action="store_true")
        report = sub.add_parser("report", help="The run's report as CSV.")
        report.add_argument("run", type=int)
        report.add_argument("--output", "-o", help="File to write (default: stdout).")

    def handle(self, *args, **options):
        try:
            return getattr(self, f"_{options['action']}")(options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

    def _get(self, run_id: int) -> Run:
        run = Run.objects.select_related("store").filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"No run {run_id}.")
        return run

    def _wait(self, options, run_ids: list[int]) -> None:
        if options.get("wait"):
            ended = follow(run_ids, self.stdout)
            for run in ended:
                self.stdout.write(f"run {run.pk}: {run.status} {json.dumps(run.summary)}")
            if failed_rows(ended) or any(r.status == Run.Status.FAILED for r in ended):
                raise CommandError("Some report rows failed; see `runs report`.")

    def _list(self, options):
        qs = Run.objects.select_related("store")
        if options["store"]:
            qs = qs.filter(store__shop_domain=options["store"])
        if options["status"]:
            qs = qs.filter(status=options["status"])
        for run in qs[: options["limit"]]:
            p = engine.run_progress(run)
            self.stdout.write(
                f"{run.pk:>6} {run.kind:<5} {run.status:<23} {run.store.shop_domain:<40} "
                f"{p['products_done']}/{p['products_total']} products, "
                f"{p['failures']} failures, {run.created_at:%Y-%m-%d %H:%M:%S}"
            )

    def _show(self, options):
        run = self._get(options["run"])
        p = engine.run_progress(run)
        if options["json"]:
            self.stdout.write(json.dumps(p, indent=2, default=str))
        else:
            self.stdout.write(progress_line(p))
            self.stdout.write(f"summary: {json.dumps(p['summary'])}")
            if p["error"]:
                self.stdout.write(f"error: {p['error']}")
        self._wait(options, [run.pk])

    def _abort(self, options):
        run = abort_run(run=self._get(options["run"]))
        self.stdout.write(f"run {run.pk}: abort requested ({run.status})")
        self._wait(options, [run.pk])

    def _resume(self, options):
        if options["dead"]:
            ids = engine.resume_dead_runs()
            self.stdout.write(f"resumed: {', '.join(map(str, ids)) or 'none'}")
        elif options["run"]:
            ids = [engine.run_resume(run=self._get(options["run"])).pk]
            self.stdout.write(f"run {ids[0]}: queued again")
        else:
            raise CommandError("Give a run id or --dead.")
        self._wait(options, ids)

    def _undo(self, options):
        undo = undo_run(run=self._get(options["run"]))
        self.stdout.write(f"run {undo.pk}: undo of run {options['run']} queued")
        self._wait(options, [undo.pk])

    def _report(self, options):
        run = self._get(options["run"])
        if options["output"]:
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                for chunk in report_csv.report_lines(run):
                    out.write(chunk)
            self.stdout.write(f"{run.rows.count()} rows written to {options['output']}")
        else:
            for chunk in report_csv.report_lines(run):
                (self.stdout if self.stdout else sys.stdout).write(chunk, ending="")
