from django.core.management.base import BaseCommand
from django.db import transaction

from users import demo


class Command(BaseCommand):
    help = "Create (or refresh) demo specialties, staff, doctors, patients, availability and appointments."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            logins = demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (all share one password):"))
        for role, email, password in logins:
            self.stdout.write(f"  {role:<8} {email:<32} {password}")
