"""Seed a system-test database: `python -m tests.system.seed '<json spec>'` prints one JSON line.

Spec: {"patients": N, "appointment": true, "confirmed_soon": true, "tag": "a"}. Creates N active patients and
one verified doctor (UTC, 30-minute slots, available all day every day), and prints their ids, emails, the shared
password, a JWT access token per user (signed with the server's key, which the subprocess shares) and a bookable
slot two days ahead.
"""

import datetime as dt
import json
import sys

import django


def main() -> None:
    django.setup()
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from appointments.models import AvailabilityRule
    from users.tests.factories import DEFAULT_PASSWORD, DoctorFactory, PatientFactory

    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    tag = spec.get("tag", "")  # tells apart the seeds of several tests sharing one database
    doctor = DoctorFactory(email=f"sysdoctor{tag}@example.com")
    for weekday in range(7):
        AvailabilityRule.objects.create(doctor=doctor, weekday=weekday, start_time=dt.time(0), end_time=dt.time(23, 30))
    patients = [PatientFactory(email=f"syspatient{tag}{i}@example.com") for i in range(spec.get("patients", 1))]
    today = timezone.now().astimezone(dt.UTC).date()
    slot = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(10), tzinfo=dt.UTC)
    if spec.get("appointment"):
        # Something for the fuzzer's ids to find: one appointment on another day, with a note.
        from appointments.tests.factories import AppointmentFactory, AppointmentNoteFactory

        booked = AppointmentFactory(doctor=doctor, patient=patients[0], start=slot + dt.timedelta(days=1))
        AppointmentNoteFactory(appointment=booked)

    soon = None
    if spec.get("confirmed_soon"):
        # Confirmed and starting in three hours: inside the reminder window (no notification is made here).
        from appointments.choices import Status
        from appointments.tests.factories import AppointmentFactory

        start = (timezone.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
        soon = AppointmentFactory(doctor=doctor, patient=patients[0], start=start, status=Status.CONFIRMED).pk

    def access(user) -> str:
        return str(RefreshToken.for_user(user).access_token)

    print(
        json.dumps(
            {
                "password": DEFAULT_PASSWORD,
                "slot": slot.isoformat(),
                "confirmed_soon": soon,
                "doctor": {"id": doctor.pk, "email": doctor.email, "access": access(doctor)},
                "patients": [{"id": p.pk, "email": p.email, "access": access(p)} for p in patients],
            }
        )
    )


if __name__ == "__main__":
    main()
