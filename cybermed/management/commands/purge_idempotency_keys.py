from django.core.management.base import BaseCommand

from cybermed.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key responses older than 24 h (they are ignored anyway). Run daily."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"Deleted {purge_expired()} expired idempotency key(s).")
