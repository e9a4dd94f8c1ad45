"""The app with the report CSV writer before issue 28 (bench/report_csv.py's baseline), loaded
whole at import as assetlink_project.wsgi is: `gunicorn bench._report_csv_baseline`."""

import importlib

from assetlink_project.wsgi import application
from bench.report_csv import old_report_lines

# After Django's set-up (the wsgi module's); reports/api.py reads it from the module.
importlib.import_module("reports.csv").report_lines = old_report_lines

__all__ = ["application"]
