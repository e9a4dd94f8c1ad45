"""The models and the migrations agree: a model change without its migration fails here. And
every migration is safe to run on a live PostgreSQL (docs/deploy.md, "Migrations on a live database")."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django_migration_linter import MigrationLinter
from django_migration_linter.sql_analyser.analyser import analyse_sql_statements

OUR_APPS = ("stores", "linking", "uploads", "reports")
# A column default PostgreSQL must compute per row rewrites the whole table when it is added.
VOLATILE_DEFAULT = re.compile(
    r"ADD COLUMN .* DEFAULT .*\b(random|gen_random_uuid|uuid_generate_v\d|clock_timestamp|"
    r"timeofday|nextval)\s*\(",
    re.IGNORECASE,
)
# Migrations written before this check, each reviewed: the findings allowed and why they are
# harmless. Any other finding, in these or in a new migration, fails the test.
REVIEWED = {
    ("linking", "0003_asset_caption_in_stores"): {
        "DROP_TABLE": "the caption cache moved to stores (stores 0003 creates it); a cache, "
        "refilled from Cloudinary on the next dry run"
    },
    ("reports", "0003_run_outcomes"): {
        "ALTER_COLUMN": "widens runs.status (varchar 20 → 30): a catalog-only change on "
        "PostgreSQL, no rewrite, old code still fits"
    },
    ("reports", "0004_report_row_file"): {
        "NOT_NULL": "adds filename/url with a constant default '' (catalog-only since "
        "PostgreSQL 11); released together with the code writing them"
    },
    ("stores", "0009_setup_follows_shopify_rules"): {
        "ALTER_COLUMN": "widens the swatch metafield namespace (varchar 64 → 255, Shopify's "
        "limit): a catalog-only change on PostgreSQL, no rewrite, old code still fits"
    },
    ("stores", "0004_oauth_state_workspace"): {
        "CREATE_INDEX": "OAuth states live minutes: the table holds a handful of rows",
        "CREATE_INDEX_EXCLUSIVE": "same table, same few rows",
    },
}


def _findings(linter: MigrationLinter, migration) -> dict[str, str]:
    sql = linter.get_sql(migration.app_label, migration.name)
    errors, _, warnings = analyse_sql_statements(linter.sql_analyser_class, sql)
    data_errors, _, data_warnings = linter.analyse_data_migration(migration)
    found = {i.code: i.message for i in [*errors, *warnings, *data_errors, *data_warnings]}
    found.update(
        {"VOLATILE_DEFAULT": s for s in sql if VOLATILE_DEFAULT.search(s)}  # table rewrite
    )
    return found


@pytest.mark.django_db
def test_migrations_are_safe_on_a_live_postgresql():
    """django-migration-linter reads the SQL each migration runs (sqlmigrate on PostgreSQL).
    Findings fail: a NOT NULL column without a database default, dropped or renamed
    columns/tables, a column type change (a table rewrite), a unique constraint or an index
    built without CONCURRENTLY on an existing table (writes blocked while it builds), RunPython
    or RunSQL without a way back — and, checked here, a volatile default (a table rewrite).
    Each would lock a big table for long or break the processes of the previous release, which
    serve until the new ones start."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "the SQL checked is PostgreSQL's: run with a postgres:// DATABASE_URL (CI does)"
        )
    linter = MigrationLinter(no_cache=True, no_output=True, include_apps=OUR_APPS)
    migrations = sorted(
        (m for key, m in linter.migration_loader.disk_migrations.items() if key[0] in OUR_APPS),
        key=lambda m: (m.app_label, m.name),
    )
    assert len(migrations) >= 12, "the migrations of our apps were not found"
    unsafe = []
    for migration in migrations:
        allowed = REVIEWED.get((migration.app_label, migration.name), {})
        for code, message in _findings(linter, migration).items():
            if code not in allowed:
                unsafe.append(f"{migration.app_label}.{migration.name}: {code} — {message}")
    assert not unsafe, (
        "Migrations unsafe on a live PostgreSQL (docs/deploy.md says how to split them):\n"
        + "\n".join(unsafe)
    )


def test_the_check_finds_what_it_is_for():
    """The checks themselves, on the SQL Django writes for typical unsafe changes."""
    from django_migration_linter.sql_analyser.postgresql import PostgresqlAnalyser

    def codes(*sql):
        errors, _, warnings = analyse_sql_statements(PostgresqlAnalyser, list(sql))
        return {i.code for i in [*errors, *warnings]}

    assert "NOT_NULL" in codes(
        'ALTER TABLE "reports_run" ADD COLUMN "x" integer DEFAULT 0 NOT NULL;',
        'ALTER TABLE "reports_run" ALTER COLUMN "x" DROP DEFAULT;',
    )
    assert "ALTER_COLUMN" in codes(
        'ALTER TABLE "reports_reportrow" ALTER COLUMN "message" TYPE varchar(10) USING "message"::varchar(10);'
    )
    assert "CREATE_INDEX" in codes('CREATE INDEX "i" ON "reports_reportrow" ("action");')
    assert not codes('CREATE INDEX CONCURRENTLY "i" ON "reports_reportrow" ("action");')
    assert not codes('ALTER TABLE "reports_run" ADD COLUMN "timings" jsonb NULL;')
    assert VOLATILE_DEFAULT.search(
        'ALTER TABLE "reports_run" ADD COLUMN "token" uuid DEFAULT (gen_random_uuid()) NOT NULL;'
    )


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"makemigrations --check found changes without a migration:\n{out.getvalue()}")
