"""Run kinds, registered in one place: how a run of each kind is enqueued and aborted.

``linking`` registers ``link`` and ``undo``, ``uploads`` registers ``upload`` (in their
``AppConfig.ready``); every surface (API, Django admin, CLI, the uninstall webhook) goes through
:func:`abort_run` / :func:`enqueue_run`, so no surface can call one kind's code on another's run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assetlink_project.errors import ApplicationError


@dataclass(frozen=True)
class RunKind:
    name: str
    enqueue: Callable[[int], None]
    """Put the run (by id) in its queue; the job resumes where the run stopped."""
    abort: Callable[..., object]
    """``abort(run=run)``: stop at the next safe point (a queued run stops at once)."""
    report_lines: Callable[..., Iterator[str]] | None = None
    """The run's report as CSV chunks, when it is not the link report (reports.csv)."""
    report_filename: Callable[..., str] | None = None


_KINDS: dict[str, RunKind] = {}


def register(kind: RunKind) -> None:
    _KINDS[kind.name] = kind


def kind_of(run) -> RunKind:
    try:
        return _KINDS[run.kind]
    except KeyError:
        raise ApplicationError(f"Run {run.pk} is of an unknown kind ({run.kind!r}).") from None


def abort_run(*, run):
    """Ask a run of any kind to stop at its next safe point; returns the fresh run."""
    return kind_of(run).abort(run=run)


def enqueue_run(run) -> None:
    kind_of(run).enqueue(run.pk)


def report_of(run) -> tuple[Iterator[str], str]:
    """The CSV chunks and the file name of any run's report."""
    from reports import csv

    kind = _KINDS.get(run.kind)
    if kind is not None and kind.report_lines is not None:
        return kind.report_lines(run), kind.report_filename(run)
    return csv.report_lines(run), csv.filename(run)
