from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from appointments.admin import extend_user_admin
        from appointments.models import OVERLAP_CONSTRAINTS, Appointment
        from cybermed.exceptions import SlotUnavailable, register_constraint_conflict, register_unique_constraints

        # The database constraints that back "no double booking": a violation is the same 409 as a failed check.
        register_unique_constraints(Appointment, SlotUnavailable)
        for name in OVERLAP_CONSTRAINTS:
            register_constraint_conflict(name, SlotUnavailable)
        # After the admin's autodiscovery (django.contrib.admin is listed first): the users admin exists.
        extend_user_admin()
