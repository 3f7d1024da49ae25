"""Full list pages for the benchmarks: users whose every list endpoint returns a whole page, and the cleanup.

Shared by `bench/run.py` (over HTTP) and the in-process timing scripts (`bench/list_timing.py`): import it
after `django.setup()`; it needs no HTTP server. The seeded data gives no patient a full 20-row page (at
10k appointments the busiest patient has a handful, at 1M about 6), no user notifications and no message
threads, so `full_pages()` adds what is missing, every row tagged so that `delete_bench_rows()` (called by
`FullPages.cleanup()`) removes exactly what the benchmarks added:

- appointments: `reason_for_visit = BENCH_TAG` (the harness's own bookings carry the same tag), each with
  its creation `StatusChange` (cascades), on free future slots of their doctor's grid (`doctor_free_slots`:
  inside availability, outside time off and other active appointments), never overlapping the patient's
  other active appointments, confirmed and made by the doctor, like a doctor's booking through the API;
- notifications: `data["bench"] == BENCH_TAG`, each about one of the patient's appointments (the
  notifications the harness's bookings trigger point to bench appointments and are deleted with them,
  together with their queued email/SMS task rows);
- threads: one per (patient, doctor) pair that shares an appointment, as the service requires, each with
  one message from the doctor whose body is BENCH_TAG (its thread is deleted with it).

Rows are created directly (not through the services) so that preparing a page sends no notification and
queues no task; the database constraints (exclusion on overlapping active appointments, one thread per
pair) still check them.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from appointments.choices import ACTIVE_STATUSES, Status
from appointments.models import Appointment, StatusChange
from appointments.selectors import doctor_free_slots
from messaging.choices import MessageStatus
from messaging.models import Message, Thread
from notifications.choices import Kind
from notifications.models import Notification
from users.choices import Role
from users.models import DoctorProfile, User
from users.selectors import doctor_list_visible

BENCH_TAG = "bench booking"
PAGE = 20
# How far ahead a bench booking may be placed (the doctor's local dates); the seed leaves a fifth of each grid free.
HORIZON_DAYS = 28


@dataclass
class FullPages:
    """Who to ask for full pages: `patient_id` (appointments, notifications, threads), `doctor_id`
    (appointments). `created`: rows added by `full_pages()`, by kind."""

    patient_id: int
    doctor_id: int
    page: int
    created: dict[str, int] = field(default_factory=dict)

    @property
    def notification_user_id(self) -> int:
        return self.patient_id

    @property
    def thread_user_id(self) -> int:
        return self.patient_id

    def token(self, user_id: int) -> str:
        return access_token(user_id)

    def tokens(self) -> dict[str, str]:
        """Access tokens (no database write, unlike a login) of the patient and the doctor."""
        return {"patient": access_token(self.patient_id), "doctor": access_token(self.doctor_id)}

    def cleanup(self) -> dict[str, int]:
        return delete_bench_rows()


def access_token(user_id: int) -> str:
    """A signed access token for the user, as a login would return (simplejwt's own claims)."""
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(User.objects.get(pk=user_id)))


def _most(column: str, rows) -> int | None:  # noqa: ANN001 - a QuerySet of appointments
    row = rows.values(column).annotate(n=Count("id")).order_by("-n", column).first()
    return row[column] if row else None


def _active_intervals(patient_id: int) -> list[tuple[dt.datetime, dt.datetime]]:
    rows = Appointment.objects.filter(patient_id=patient_id, status__in=ACTIVE_STATUSES)
    return list(rows.values_list("start", "end"))


def _overlaps(start: dt.datetime, end: dt.datetime, busy: list[tuple[dt.datetime, dt.datetime]]) -> bool:
    return any(start < b_end and end > b_start for b_start, b_end in busy)


def _book(*, doctor_id: int, patient_id: int, slots: list[tuple[dt.datetime, dt.datetime]]) -> list[Appointment]:
    rows = Appointment.objects.bulk_create(
        [
            Appointment(
                doctor_id=doctor_id,
                patient_id=patient_id,
                start=start,
                end=end,
                reason_for_visit=BENCH_TAG,
                status=Status.CONFIRMED,
                created_by_id=doctor_id,
            )
            for start, end in slots
        ]
    )
    StatusChange.objects.bulk_create(
        [StatusChange(appointment=a, from_status="", to_status=Status.CONFIRMED, by_id=doctor_id) for a in rows]
    )
    return rows


def _free_slots(profile: DoctorProfile, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    today = now.astimezone(profile.zone).date()
    return doctor_free_slots(
        profile=profile, first=today + dt.timedelta(days=1), last=today + dt.timedelta(days=HORIZON_DAYS), now=now
    )


def _top_up_patient(patient_id: int, *, bookings: int, avoid: set[int], now: dt.datetime) -> list[int]:
    """Book `bookings` slots for the patient, each with another doctor (so that each pair may have a thread).
    Doctors are taken from the end of the directory (run.py's booking scenarios use its start)."""
    busy = _active_intervals(patient_id)
    doctors = []
    profiles = DoctorProfile.objects.filter(user__in=doctor_list_visible().values("pk")).exclude(user_id__in=avoid)
    for profile in profiles.order_by("-user_id").iterator(chunk_size=50):
        if len(doctors) == bookings:
            break
        slot = next((s for s in _free_slots(profile, now) if not _overlaps(*s, busy)), None)
        if slot is None:
            continue
        _book(doctor_id=profile.user_id, patient_id=patient_id, slots=[slot])
        busy.append(slot)
        doctors.append(profile.user_id)
    if len(doctors) < bookings:
        raise RuntimeError(f"only {len(doctors)} of {bookings} doctors had a free slot for patient {patient_id}")
    return doctors


def _top_up_doctor(doctor_id: int, *, bookings: int, now: dt.datetime) -> int:
    """Book `bookings` of the doctor's free slots for one patient without appointments (the doctor's own slots
    never overlap each other, so one patient can take them all)."""
    profile = DoctorProfile.objects.get(user_id=doctor_id)
    has_any = Appointment.objects.values("patient_id")
    patient = User.objects.filter(role=Role.PATIENT, is_active=True).exclude(pk__in=has_any).order_by("pk").first()
    if patient is None:
        raise RuntimeError("no patient without appointments to book the doctor's page with")
    slots = _free_slots(profile, now)[:bookings]
    if len(slots) < bookings:
        raise RuntimeError(f"doctor {doctor_id} has only {len(slots)} free slots in {HORIZON_DAYS} days")
    _book(doctor_id=doctor_id, patient_id=patient.pk, slots=slots)
    return len(slots)


def _notifications(patient_id: int, count: int) -> int:
    appointments = list(
        Appointment.objects.filter(patient_id=patient_id)
        .order_by("-start", "-id")
        .values_list("pk", "start", "doctor__first_name", "doctor__last_name")[:count]
    )
    rows = []
    for n in range(count):
        pk, start, first, last = appointments[n % len(appointments)]
        when = start.strftime("%a %d %b %Y, %H:%M UTC")
        rows.append(
            Notification(
                user_id=patient_id,
                kind=Kind.APPOINTMENT_CONFIRMED,
                title="Appointment confirmed",
                message=f"Dr {first} {last} confirmed your appointment on {when}.",
                appointment_id=pk,
                data={"bench": BENCH_TAG, "appointment": pk, "start": start.isoformat()},
                is_read=n % 3 == 0,
            )
        )
    Notification.objects.bulk_create(rows)
    return len(rows)


def _threads(patient_id: int, count: int, now: dt.datetime) -> int:
    """Threads with `count` doctors the patient shares an appointment with and has no thread with yet."""
    taken = Thread.objects.filter(patient_id=patient_id).values("doctor_id")
    doctors = list(
        Appointment.objects.filter(patient_id=patient_id)
        .exclude(doctor_id__in=taken)
        .order_by("doctor_id")
        .values_list("doctor_id", flat=True)
        .distinct()[:count]
    )
    if len(doctors) < count:
        raise RuntimeError(f"patient {patient_id} shares appointments with only {len(doctors)} new doctors")
    threads = Thread.objects.bulk_create(
        [
            Thread(patient_id=patient_id, doctor_id=d, updated_at=now - dt.timedelta(minutes=n))
            for n, d in enumerate(doctors)
        ]
    )
    messages = Message.objects.bulk_create(
        [Message(thread=t, sender_id=t.doctor_id, body=BENCH_TAG, status=MessageStatus.SENT) for t in threads]
    )
    for thread, message in zip(threads, messages, strict=True):
        thread.last_message = message
    Thread.objects.bulk_update(threads, ["last_message"])
    return len(threads)


@transaction.atomic
def full_pages(*, page: int = PAGE, now: dt.datetime | None = None) -> FullPages:
    """Make sure a patient and a doctor have `page` upcoming appointments, and the patient `page`
    notifications and `page` message threads; returns who they are. Safe to call again (it adds only what
    is missing). The patient and the doctor are those with the most appointments."""
    now = now or timezone.now()
    patient_id = _most("patient", Appointment.objects.all())
    doctor_id = _most("doctor", Appointment.objects.all())
    if patient_id is None or doctor_id is None:
        raise RuntimeError("no appointments: seed the database first (manage.py seed_bench)")
    created: dict[str, int] = {}

    upcoming = Appointment.objects.filter(start__gte=now)
    missing_upcoming = page - upcoming.filter(patient_id=patient_id).count()
    counterparts = set(Appointment.objects.filter(patient_id=patient_id).values_list("doctor_id", flat=True))
    with_thread = set(Thread.objects.filter(patient_id=patient_id).values_list("doctor_id", flat=True))
    # A thread needs an appointment between the pair: book with new doctors for the threads still missing.
    missing_counterparts = page - len(with_thread) - len(counterparts - with_thread)
    bookings = max(missing_upcoming, missing_counterparts, 0)
    if bookings:
        _top_up_patient(patient_id, bookings=bookings, avoid=counterparts | {doctor_id}, now=now)
        created["patient_appointments"] = bookings

    missing_doctor = page - upcoming.filter(doctor_id=doctor_id).count()
    if missing_doctor > 0:
        created["doctor_appointments"] = _top_up_doctor(doctor_id, bookings=missing_doctor, now=now)

    missing_notifications = page - Notification.objects.filter(user_id=patient_id).count()
    if missing_notifications > 0:
        created["notifications"] = _notifications(patient_id, missing_notifications)

    missing_threads = page - Thread.objects.filter(patient_id=patient_id).count()
    if missing_threads > 0:
        created["threads"] = _threads(patient_id, missing_threads, now)
    return FullPages(patient_id=patient_id, doctor_id=doctor_id, page=page, created=created)


def _task_model():  # noqa: ANN202 - the django-tasks database backend's model, when installed
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the backend is in requirements.txt
        return None
    return DBTaskResult


@transaction.atomic
def delete_bench_rows() -> dict[str, int]:
    """Delete every bench-tagged row (see the module docstring) and what hangs off it; returns counts by kind.

    Notifications pointing to a bench appointment are the ones the harness's bookings triggered: they go too,
    with the email and SMS tasks queued for them (the notification id is the task's only argument)."""
    from payments.models import Payment

    removed: dict[str, int] = {}
    bench_appointments = Appointment.objects.filter(reason_for_visit=BENCH_TAG)
    notifications = Notification.objects.filter(Q(data__bench=BENCH_TAG) | Q(appointment__in=bench_appointments))
    notification_ids = list(notifications.values_list("pk", flat=True))
    tasks = _task_model()
    if tasks is not None and notification_ids:
        queued = tasks.objects.filter(task_path__startswith="notifications.tasks.send_notification_")
        removed["tasks"] = queued.filter(args_kwargs__kwargs__notification_id__in=notification_ids).delete()[0]
    removed["notifications"] = Notification.objects.filter(pk__in=notification_ids).delete()[0]
    removed["threads"] = Thread.objects.filter(
        pk__in=Message.objects.filter(body=BENCH_TAG).values("thread_id")
    ).delete()[0]
    removed["payments"] = Payment.objects.filter(appointment__in=bench_appointments).delete()[0]
    removed["appointments"] = bench_appointments.delete()[0]
    return {kind: n for kind, n in removed.items() if n}
