"""Run kinds, registered in one place: how a run of each kind is enqueued and aborted.

``linking`` registers ``link`` and ``undo``, ``uploads`` registers ``upload`` (in their
``AppConfig.ready``); every surface (API, Django admin, CLI, the uninstall webhook) goes through
:func:`abort_run` / :func:`enqueue_run`, so no surface can call one kind's code on another's run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assetlink_project.errors import ApplicationError


@dataclass(frozen=True)
class RunKind:
    name: str
    enqueue: Callable[[int], None]
    """Put the run (by id) in its queue; the job resumes where the run stopped."""
    abort: Callable[..., object]
    """``abort(run=run)``: stop at the next safe point (a queued run stops at once)."""
    undo: Callable[..., object] | None = None
    """``undo(run=run, user=user)``: a new run that gives back what ``run`` changed."""


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


def undo_run(*, run, user=None):
    """Start the undo of a finished run (for the kinds that can be undone)."""
    kind = kind_of(run)
    if kind.undo is None:
        raise ApplicationError(f"A run of kind {run.kind!r} cannot be undone.")
    return kind.undo(run=run, user=user)


def enqueue_run(run) -> None:
    kind_of(run).enqueue(run.pk)


# Periodic checks the workers' sweeper makes (every --sweep-seconds), registered by the apps
# that need them (e.g. linking's nightly reconciliation of sync rules); reports imports none.
_PERIODIC: list[Callable[[], object]] = []


def register_periodic(check: Callable[[], object]) -> None:
    if check not in _PERIODIC:
        _PERIODIC.append(check)


def periodic_checks() -> list[Callable[[], object]]:
    return list(_PERIODIC)
