"""Django's PostgreSQL backend (DATABASE_URL postgres://…), reading timestamps with time zone
with psycopg's own loader — its C implementation with psycopg[binary] — instead of Django's.

Django parses every `timestamptz` value in Python (its loader subclasses psycopg's pure-Python
one to set the time zone): ~2.5 µs a value, a quarter of the CPU of the Runs list (100 runs,
4 timestamps each). On a connection whose session time zone is UTC — Django sets it so with
USE_TZ and no database TIME_ZONE — psycopg's loader gives the same datetimes, with the same
`datetime.timezone.utc`; the cursors of any other connection keep Django's loader."""

from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.pq import Format

TIMESTAMPTZ_OID = adapters.types["timestamptz"].oid
# psycopg's default loader (not Django's): C with psycopg[binary] or [c], else Python.
LOADER = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        if (
            settings.USE_TZ
            and self.timezone_name == "UTC"
            and self.connection.info.parameter_status("TimeZone") == "UTC"
        ):
            cursor.adapters.register_loader(TIMESTAMPTZ_OID, LOADER)
        return cursor
