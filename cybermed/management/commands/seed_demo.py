from django.core.management.base import BaseCommand
from django.db import transaction

from appointments import demo as appointments_demo
from users import demo as users_demo


class Command(BaseCommand):
    help = "Create (or refresh) demo specialties, staff, doctors, patients, availability and appointments."

    def handle(self, *args, **options) -> None:
        # Each app seeds its own data, in dependency order: the accounts first, then what refers to them.
        with transaction.atomic():
            users = users_demo.seed()
            appointments_demo.seed(doctors=users.doctors, patients=users.patients)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (all share one password):"))
        for role, email, password in users.logins:
            self.stdout.write(f"  {role:<8} {email:<32} {password}")
