"""Housekeeping tasks run by the RQ worker."""

from __future__ import annotations

from assetlink_project.health import check_database


def ping(token: str) -> dict:
    """A job that proves a worker runs, can reach the database, and returns results."""
    return {"token": token, "database": check_database()}
