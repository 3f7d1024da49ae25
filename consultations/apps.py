from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from consultations.models import Consultation
        from cybermed.exceptions import AlreadyExists, register_unique_constraints

        # A second consultation for one appointment that slips past the service's check (a race)
        # is refused by the one-per-appointment constraint and must get the same 409 as the check.
        register_unique_constraints(Consultation, AlreadyExists)
