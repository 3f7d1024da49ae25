from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    """Calendar feeds and invitations. Sits between appointments (which it reads) and notifications (which
    attaches its invitations to emails): it imports users and appointments, and nothing imports it but
    notifications and the URL configuration."""

    name = "calendars"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cybermed.middleware import register_secret_path

        # The feed token is the only credential of /calendar/<token>.ics: it must never reach a log.
        register_secret_path(r"/calendar/[^/\s\"']*\.ics", "/calendar/<redacted>.ics")
