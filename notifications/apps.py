from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cybermed.exceptions import AlreadyExists, register_unique_constraints
        from notifications import receivers  # noqa: F401  (connects the signal receivers)
        from notifications.models import WaitlistEntry

        # The same waitlist entry twice, past the service's check (a race), is the same 409 as the check.
        register_unique_constraints(WaitlistEntry, AlreadyExists)
