from django.core.management.base import BaseCommand

from notifications.services import reminders_send


class Command(BaseCommand):
    help = (
        "Send a reminder (notification and email) to each participant of every confirmed appointment starting in "
        "the next 24 hours. Each reminder goes out once: safe to run every few minutes, even concurrently."
    )

    def handle(self, *args: object, **options: object) -> None:
        sent = reminders_send()
        self.stdout.write(f"Sent {sent} reminder(s).")
