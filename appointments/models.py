import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from appointments.choices import ACTIVE_STATUSES, Status, Weekday

ACTIVE_Q = Q(status__in=ACTIVE_STATUSES)

# PostgreSQL exclusion constraints on Appointment (no two active appointments of one doctor, or one patient,
# overlap), added by migration 0003. Not in the model state: other databases do not have them.
OVERLAP_CONSTRAINTS = ("appointment_doctor_no_overlap", "appointment_patient_no_overlap")


class AvailabilityRule(models.Model):
    """A weekly window in the doctor's own time zone, e.g. Monday 09:00-12:00."""

    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_rules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time"]
        indexes = [models.Index(fields=["doctor", "weekday"], name="availability_doctor_weekday")]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="availability_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="availability_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class TimeOff(models.Model):
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["doctor", "start", "end"], name="timeoff_doctor_range")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="timeoff_end_after_start")]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M}"


class Appointment(models.Model):
    # No single-column indexes: (doctor, start) and (patient, start) below serve every lookup by person.
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments_as_doctor", db_index=False
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments_as_patient", db_index=False
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason_for_visit = models.TextField(blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    location = models.CharField(max_length=500, blank=True, default="")
    cancellation_reason = models.TextField(blank=True, default="")
    # RFC 5545 SEQUENCE: calendars that hold a copy of the event take a higher one as the newer version.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    referred_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="referred_to"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            # A doctor's and a patient's lists are ordered by (start, id): with `id` in the index, PostgreSQL walks
            # it and stops after a page, with no sort (issue 19).
            models.Index(fields=["doctor", "start", "id"], name="appointment_doctor_start_id"),
            models.Index(fields=["patient", "start", "id"], name="appointment_patient_start_id"),
            models.Index(fields=["start"], name="appointment_start"),
            # The reports' new/returning patients: "a completed visit of this patient (with this doctor)
            # before the period" is a merge semi join over this index instead of a scan of the visits.
            models.Index(
                fields=["patient", "doctor", "start"],
                condition=Q(status="completed"),
                name="appointment_completed_visits",
            ),
            # The reports' booked time reads a period's booked appointments per doctor in start order (to find
            # overlapping ones): covering, so one index-only range per doctor and neither a sort nor a heap
            # visit per appointment (scattered pages: a doctor's appointments are not stored together).
            models.Index(
                fields=["doctor", "start"],
                include=["end", "id"],
                condition=Q(
                    status__in=[Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW],
                ),
                name="appointment_booked_time",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(condition=~Q(doctor=F("patient")), name="appointment_doctor_is_not_patient"),
            models.UniqueConstraint(
                fields=["doctor", "start"], condition=ACTIVE_Q, name="appointment_doctor_start_active_uniq"
            ),
            models.UniqueConstraint(
                fields=["patient", "start"], condition=ACTIVE_Q, name="appointment_patient_start_active_uniq"
            ),
        ]

    def __str__(self) -> str:
        # Stored in UTC; say so, since the admin shows local times in the doctor's zone next to it.
        return f"#{self.pk} {self.start.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class StatusChange(models.Model):
    """One row per status change, written in the same transaction as the change."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True, default="")
    to_status = models.CharField(max_length=12, choices=Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        # The reports' late cancellations read the time of the `cancelled` entry: an index-only lookup
        # here instead of a scan of the whole history (cancellations are a small part of it).
        indexes = [
            models.Index(
                fields=["appointment", "at"], condition=Q(to_status="cancelled"), name="statuschange_cancelled_at"
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class AppointmentNote(models.Model):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note #{self.pk} on appointment #{self.appointment_id}"
