from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cybermed.exceptions import AlreadyExists, register_unique_constraints
        from messaging.models import Thread

        # Two first messages at once create the thread once; the loser's insert is the same 409 as a check.
        register_unique_constraints(Thread, AlreadyExists)
