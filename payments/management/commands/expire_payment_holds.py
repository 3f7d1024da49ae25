from django.core.management.base import BaseCommand

from payments.services import payment_holds_expire


class Command(BaseCommand):
    help = "Cancel pending appointments whose payment hold expired unpaid (reason payment_timeout). Run every minute."

    def handle(self, *args: object, **options: object) -> None:
        expired = payment_holds_expire()
        self.stdout.write(f"Released {expired} expired payment hold(s).")
