"""`python manage.py reencrypt_secrets`: re-encrypt every secret at rest (store tokens, Cloudinary
API secrets) with the newest key of ENCRYPTION_KEYS — the middle step of a key rotation."""

from django.core.management.base import BaseCommand, CommandError

from stores.key_rotation import reencrypt_all


class Command(BaseCommand):
    help = "Re-encrypt all secrets with the first key of ENCRYPTION_KEYS (key rotation)."

    def handle(self, *args, **options):
        result = reencrypt_all()
        for label, rows in result.rows.items():
            self.stdout.write(f"{label}: {rows} rows re-encrypted")
        if result.failures:
            raise CommandError(
                "No key of ENCRYPTION_KEYS decrypts the secrets of "
                + ", ".join(result.failures)
                + "; put the key they were written with back in ENCRYPTION_KEYS and run again."
            )
        self.stdout.write("Done: the older keys can now be removed from ENCRYPTION_KEYS.")
