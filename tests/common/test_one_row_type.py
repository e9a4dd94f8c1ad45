"""One report-row type: no two dataclasses of the production code hold the same row of fields
(the executor's RunRow repeated the core's ReportRow and added four)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ["assetlink_project", "common", "stores", "linking", "uploads", "reports", "pages"]
ROW = {"product_id", "action", "asset_id", "media_id", "position_before", "position_after"}


def _dataclasses():
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ClassDef):
                    continue
                decorators = {
                    getattr(d.func if isinstance(d, ast.Call) else d, "id", "")
                    for d in node.decorator_list
                }
                if "dataclass" not in decorators:
                    continue
                fields = {
                    item.target.id
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                }
                yield f"{path.relative_to(ROOT)}:{node.name}", fields


def test_one_dataclass_is_a_report_row():
    rows = [name for name, fields in _dataclasses() if fields >= ROW]
    assert rows == ["linking/core/planner.py:ReportRow"], rows
