from django.apps import AppConfig

# Database constraints that back "no double booking"; a violation is the same 409 as a failed check.
SLOT_CONSTRAINTS = (
    "appointment_doctor_start_active_uniq",
    "appointment_patient_start_active_uniq",
    "appointment_doctor_no_overlap",  # PostgreSQL exclusion constraints (migration 0003)
    "appointment_patient_no_overlap",
    # SQLite names the columns, not the constraint, when a unique index fails.
    "UNIQUE constraint failed: appointments_appointment.doctor_id, appointments_appointment.start",
    "UNIQUE constraint failed: appointments_appointment.patient_id, appointments_appointment.start",
)


class AppointmentsConfig(AppConfig):
    name = "appointments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cybermed.exceptions import SlotUnavailable, register_constraint_conflict

        for name in SLOT_CONSTRAINTS:
            register_constraint_conflict(name, SlotUnavailable)
