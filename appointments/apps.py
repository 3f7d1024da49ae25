from django.apps import AppConfig

# Database constraints that back "no double booking"; a violation is the same 409 as a failed check.
SLOT_CONSTRAINTS = (
    "appointment_doctor_start_active_uniq",
    "appointment_patient_start_active_uniq",
    "appointment_doctor_no_overlap",
    "appointment_patient_no_overlap",
)


class AppointmentsConfig(AppConfig):
    name = "appointments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cybermed.exceptions import SlotUnavailable, register_constraint_conflict

        for name in SLOT_CONSTRAINTS:
            register_constraint_conflict(name, SlotUnavailable)
