from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cybermed.exceptions import AlreadyExists, register_constraint_conflict

        # A second consultation for one appointment that slips past the service's check (a race)
        # is refused by this constraint and must get the same 409 as the check.
        register_constraint_conflict("consultation_one_per_appointment", AlreadyExists)
