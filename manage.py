#!/usr/bin/env python
"""Django's command-line utility for AssetLink."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assetlink_project.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from assetlink_project import embedded_redis

    # Settings never start the embedded Redis (REDIS_URL unset); the commands that use it do.
    embedded_redis.start_if_embedded(sys.argv[1] if len(sys.argv) > 1 else "help")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
