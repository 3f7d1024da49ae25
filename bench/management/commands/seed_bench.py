"""Fill the database with a clinic network's worth of data for the benchmark (bench/README.md).

    manage.py seed_bench --doctors 2000 --patients 200000 --appointments 1000000 --clear

PostgreSQL is loaded with COPY (psycopg 3 `cursor.copy()`), anything else with bulk_create. Every
appointment lies on its doctor's slot grid, inside their weekly availability and outside their time
off; no two active appointments overlap for a doctor (each doctor's appointments take distinct
slots) or for a patient (patients are dealt out in time order and a patient is skipped while busy).
All users share one password hash, computed once (hashing 200k passwords would take hours).
"""

import datetime as dt
import itertools
import random
import sys
import time
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, models, transaction

from appointments.choices import ACTIVE_STATUSES, Status
from appointments.models import Appointment, AvailabilityRule, StatusChange, TimeOff
from users.choices import Gender, Role
from users.models import DoctorProfile, PatientProfile, Specialty, User

BENCH_DOMAIN = "bench.test"
BENCH_PASSWORD = "bench-Passw0rd!"
TIMEZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
]
# Divisors of 60 only, so every grid anchored at a whole hour agrees whatever the anchoring rule.
SLOT_MINUTES = [15, 20, 30, 30, 30, 60]
SPECIALTIES = [
    "General Practice",
    "Cardiology",
    "Dermatology",
    "Endocrinology",
    "Gastroenterology",
    "Gynaecology",
    "Haematology",
    "Nephrology",
    "Neurology",
    "Oncology",
    "Ophthalmology",
    "Orthopaedics",
    "Otolaryngology",
    "Paediatrics",
    "Psychiatry",
    "Pulmonology",
    "Radiology",
    "Rheumatology",
    "Urology",
    "Dentistry",
]
FIRST_NAMES = [
    "Ada",
    "Amara",
    "Ben",
    "Chidi",
    "Chloe",
    "David",
    "Elena",
    "Emeka",
    "Farah",
    "Femi",
    "Grace",
    "Hana",
    "Ifeoma",
    "Ivan",
    "Jamal",
    "Julia",
    "Kemi",
    "Kenji",
    "Lara",
    "Liam",
    "Maya",
    "Musa",
    "Nadia",
    "Noah",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sade",
    "Sam",
    "Tariq",
    "Tunde",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zainab",
    "Zoe",
    "Omar",
]
LAST_NAMES = [
    "Adeyemi",
    "Okafor",
    "Smith",
    "Jones",
    "Müller",
    "Schmidt",
    "Garcia",
    "Rossi",
    "Tanaka",
    "Sato",
    "Kumar",
    "Patel",
    "Nguyen",
    "Kim",
    "Silva",
    "Santos",
    "Brown",
    "Wilson",
    "Taylor",
    "Mensah",
    "Balogun",
    "Eze",
    "Haddad",
    "Novak",
    "Kowalski",
    "Ivanova",
    "Larsen",
    "Dubois",
    "Moreau",
    "Costa",
    "Ali",
    "Khan",
    "Chen",
    "Wang",
]
PAST_DAYS = 300
FUTURE_DAYS = 60
IDLE_PATIENT_SHARE = 0.02  # newly registered patients with no appointments yet (the bench books for them)
BUSY_DOCTOR_EVERY = 100  # every 100th doctor is a busy one, with 4x the share of appointments
PAST_STATUSES = [(Status.COMPLETED, 70), (Status.CANCELLED, 14), (Status.NO_SHOW, 8), (Status.REFERRED, 8)]
FUTURE_STATUSES = [(Status.PENDING, 40), (Status.CONFIRMED, 45), (Status.CANCELLED, 15)]
# The status changes an appointment went through to reach its final status ("" = created).
HISTORY = {
    Status.PENDING: [("", Status.PENDING)],
    Status.CONFIRMED: [("", Status.PENDING), (Status.PENDING, Status.CONFIRMED)],
    Status.CANCELLED: [("", Status.PENDING), (Status.PENDING, Status.CANCELLED)],
    Status.COMPLETED: [("", Status.PENDING), (Status.PENDING, Status.CONFIRMED), (Status.CONFIRMED, Status.COMPLETED)],
    Status.NO_SHOW: [("", Status.PENDING), (Status.PENDING, Status.CONFIRMED), (Status.CONFIRMED, Status.NO_SHOW)],
    Status.REFERRED: [("", Status.PENDING), (Status.PENDING, Status.CONFIRMED), (Status.CONFIRMED, Status.REFERRED)],
}


@dataclass
class DoctorPlan:
    id: int
    zone: zoneinfo.ZoneInfo
    slot_minutes: int
    windows: list[tuple[int, int]]  # (start minute, end minute) of the day, weekdays only
    days_off: set[dt.date]


class Progress:
    """One status line on stderr: rows written, rows/s and ETA over the whole load."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.done = total, enabled, 0
        self.started = self.last = time.monotonic()

    def add(self, n: int, label: str) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.5 or self.done >= self.total):
            self.last = now
            rate = self.done / max(now - self.started, 1e-9)
            # The total is an estimate until the appointments are planned (time off, split days).
            eta = max(0.0, (self.total - self.done) / rate if rate else 0.0)
            pct = min(100.0, 100 * self.done / max(self.total, 1))
            sys.stderr.write(
                f"\r  {label:<14} {self.done:>10,}/{self.total:,} rows {pct:5.1f}%"
                f"  {rate:>9,.0f} rows/s  ETA {eta:5.0f}s "
            )
            sys.stderr.flush()

    def finish(self) -> float:
        if self.enabled:
            sys.stderr.write("\n")
        return time.monotonic() - self.started


class Writer:
    """Writes rows to a model's table: COPY on PostgreSQL, bulk_create elsewhere.

    Rows are dicts keyed by field attname; any concrete field left out gets its model default, so
    fields added to the models later do not break the seeder as long as they have defaults.
    """

    def __init__(self, progress: Progress, batch: int = 5000) -> None:
        self.progress, self.batch = progress, batch
        self.postgres = connection.vendor == "postgresql"

    def write(self, model: type[models.Model], rows: Iterable[dict], label: str) -> int:
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return 0
        rows = itertools.chain([first], rows)
        # An auto-incremented primary key is left to the database unless the rows carry it.
        fields = [
            f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in first and f.db_returning)
        ]
        if self.postgres:
            defaults = {f.attname: self._default(f) for f in fields if f.attname not in first}
            return self._copy(model, fields, defaults, rows, label)
        return self._bulk_create(model, rows, label)

    def _copy(
        self, model: type[models.Model], fields: list[models.Field], defaults: dict, rows: Iterable[dict], label: str
    ) -> int:
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in fields)
        names = [f.attname for f in fields]
        count = 0
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[n] if n in row else defaults[n] for n in names])
                    count += 1
                    if count % 10000 == 0:
                        self.progress.add(10000, label)
        self.progress.add(count % 10000, label)
        return count

    def _bulk_create(self, model: type[models.Model], rows: Iterable[dict], label: str) -> int:
        count, chunk = 0, []
        for row in rows:
            chunk.append(model(**row))
            if len(chunk) >= self.batch:
                model.objects.bulk_create(chunk)
                count += len(chunk)
                self.progress.add(len(chunk), label)
                chunk = []
        model.objects.bulk_create(chunk)
        self.progress.add(len(chunk), label)
        return count + len(chunk)

    @staticmethod
    def _default(field: models.Field) -> object:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return dt.datetime.now(dt.UTC)
        if field.has_default() or field.null or field.empty_strings_allowed:
            return field.get_default()
        raise CommandError(f"seed_bench does not know how to fill {field.model.__name__}.{field.name}")


def iso(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


class Command(BaseCommand):
    help = "Load benchmark data: doctors, patients, availability, time off and appointments (fast, bulk)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--doctors", type=int, default=2000)
        parser.add_argument("--patients", type=int, default=200_000)
        parser.add_argument("--appointments", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--clear", action="store_true", help="delete earlier bench data first")
        parser.add_argument("--no-history", action="store_true", help="skip StatusChange rows")

    def handle(self, *args, **opts) -> None:
        n_doctors, n_patients, n_appts = opts["doctors"], opts["patients"], opts["appointments"]
        if n_doctors < 1 or n_patients < 2 or n_appts < 0:
            raise CommandError("need at least 1 doctor and 2 patients")
        self.rng = random.Random(opts["seed"])
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.verbose = opts["verbosity"] > 0
        if opts["clear"]:
            self.clear()
        elif User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").exists():
            raise CommandError("bench data already present: pass --clear to replace it")

        history_rows = 0 if opts["no_history"] else int(n_appts * 2.4)
        total = n_doctors * 9 + n_patients * 2 + n_appts + history_rows
        progress = Progress(total, self.verbose)
        writer = Writer(progress)
        started = time.monotonic()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            specialties = self.specialties()
            self.password = make_password(BENCH_PASSWORD)
            base_id = self.next_id(User)
            # Doctors spread evenly among patients by id, as sign-ups would interleave them.
            n_users = n_doctors + n_patients
            doctor_ids = [base_id + n * n_users // n_doctors for n in range(n_doctors)]
            taken = set(doctor_ids)
            patient_ids = [pk for pk in range(base_id, base_id + n_users) if pk not in taken]
            writer.write(User, self.user_rows(doctor_ids, Role.DOCTOR), "users")
            writer.write(User, self.user_rows(patient_ids, Role.PATIENT), "users")
            plans = [self.doctor_plan(i, pk) for i, pk in enumerate(doctor_ids)]
            writer.write(DoctorProfile, self.doctor_profile_rows(plans, specialties), "doctor profiles")
            writer.write(PatientProfile, self.patient_profile_rows(patient_ids), "patient profiles")
            writer.write(AvailabilityRule, self.availability_rows(plans), "availability")
            writer.write(TimeOff, self.time_off_rows(plans), "time off")
            appts = self.plan_appointments(plans, patient_ids, n_appts)
            if opts["no_history"]:
                progress.total += len(appts) - n_appts - history_rows
            else:
                progress.total += len(appts) - n_appts - history_rows + sum(len(HISTORY[a[4]]) for a in appts)
            first_appt = self.next_id(Appointment)
            writer.write(Appointment, self.appointment_rows(appts, first_appt), "appointments")
            if not opts["no_history"]:
                writer.write(StatusChange, self.history_rows(appts, first_appt), "status changes")
            self.reset_sequences()
        elapsed = progress.finish()
        if connection.vendor == "postgresql":
            # VACUUM also sets the visibility map, as autovacuum would have on a live database, so
            # index-only scans work; it cannot run inside a transaction (e.g. a test's).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        if self.verbose:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Seeded {n_doctors:,} doctors, {n_patients:,} patients, {len(appts):,} appointments "
                    f"in {elapsed:.1f}s (+VACUUM ANALYZE {time.monotonic() - started - elapsed:.1f}s). "
                    f"Password for every bench user: {BENCH_PASSWORD}"
                )
            )

    # --- setup ------------------------------------------------------------------------------------
    def clear(self) -> None:
        bench_users = User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}")
        if connection.vendor == "postgresql" and not User.objects.exclude(pk__in=bench_users).exists():
            # Only bench users in this database: TRUNCATE is seconds instead of minutes for 1M rows.
            tables = [User._meta.db_table, Specialty._meta.db_table]
            with connection.cursor() as cursor:
                # Deferred foreign-key checks still pending in this transaction would block TRUNCATE.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {', '.join(map(connection.ops.quote_name, tables))} RESTART IDENTITY CASCADE")
            return
        with transaction.atomic():
            appts = Appointment.objects.filter(doctor__in=bench_users) | Appointment.objects.filter(
                patient__in=bench_users
            )
            appts.delete()
            bench_users.delete()

    def specialties(self) -> list[int]:
        for name in SPECIALTIES:
            Specialty.objects.get_or_create(name=name)
        return list(Specialty.objects.filter(name__in=SPECIALTIES).values_list("pk", flat=True))

    @staticmethod
    def next_id(model: type[models.Model]) -> int:
        return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1

    @staticmethod
    def reset_sequences() -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), [User, Appointment, StatusChange])
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    # --- users and profiles -----------------------------------------------------------------------
    def user_rows(self, ids: list[int], role: str) -> Iterator[dict]:
        rng, genders = self.rng, [Gender.FEMALE, Gender.MALE, Gender.OTHER, Gender.UNDISCLOSED]
        joined = self.now - dt.timedelta(days=PAST_DAYS + 30)
        optional = {f.attname for f in User._meta.concrete_fields}
        for n, pk in enumerate(ids):
            row = {
                "id": pk,
                "password": self.password,
                "email": f"{role}{n}@{BENCH_DOMAIN}",
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "role": role,
                "gender": genders[n % 4],
                "phone_number": f"+234{800000000 + pk}",
                "date_joined": joined,
            }
            if "activated_at" in optional:
                row["activated_at"] = joined
            yield row

    def doctor_plan(self, n: int, pk: int) -> DoctorPlan:
        rng = self.rng
        busy = n % BUSY_DOCTOR_EVERY == 0
        zone = zoneinfo.ZoneInfo(TIMEZONES[n % len(TIMEZONES)])
        slot = 15 if busy else rng.choice(SLOT_MINUTES)
        windows = [(9 * 60, 17 * 60)] if n % 3 else [(9 * 60, 12 * 60), (13 * 60, 17 * 60)]
        days_off: set[dt.date] = set()
        if n % 5 == 1:  # a fifth of the doctors take a week off in the past and one in the future
            today = self.now.date()
            for offset in (rng.randrange(-PAST_DAYS, -14), rng.randrange(7, FUTURE_DAYS - 7)):
                days_off.update(today + dt.timedelta(days=offset + d) for d in range(7))
        return DoctorPlan(pk, zone, slot, windows, days_off)

    def doctor_profile_rows(self, plans: list[DoctorPlan], specialties: list[int]) -> Iterator[dict]:
        rng = self.rng
        for n, plan in enumerate(plans):
            yield {
                "user_id": plan.id,
                "specialty_id": specialties[n % len(specialties)],
                "phone_number": f"+44{700000000 + plan.id}",
                "experience_years": rng.randrange(1, 40),
                "bio": "Consultant with a focus on preventive care.",
                "clinic_name": f"CyberMed Clinic {n % 150}",
                "clinic_address": f"{n % 300 + 1} Health Street, District {n % 40}",
                "timezone": plan.zone.key,
                "slot_minutes": plan.slot_minutes,
                "is_verified": n % 20 != 19,  # 5% are still waiting for verification
            }

    def patient_profile_rows(self, ids: list[int]) -> Iterator[dict]:
        rng = self.rng
        for pk in ids:
            yield {
                "user_id": pk,
                "date_of_birth": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 30000)),
                "address": f"{pk % 500} Market Road",
                "emergency_contact_name": rng.choice(FIRST_NAMES),
                "emergency_contact_phone": f"+1{5550000000 + pk}",
            }

    def availability_rows(self, plans: list[DoctorPlan]) -> Iterator[dict]:
        for plan in plans:
            for weekday in range(5):
                for start, end in plan.windows:
                    yield {
                        "doctor_id": plan.id,
                        "weekday": weekday,
                        "start_time": dt.time(start // 60, start % 60),
                        "end_time": dt.time(end // 60, end % 60),
                    }

    def time_off_rows(self, plans: list[DoctorPlan]) -> Iterator[dict]:
        for plan in plans:
            if not plan.days_off:
                continue
            days = sorted(plan.days_off)
            # Two contiguous blocks of 7 days; each becomes one TimeOff from local midnight to midnight.
            for block in (days[:7], days[7:]):
                if block:
                    start = dt.datetime.combine(block[0], dt.time(), plan.zone)
                    end = dt.datetime.combine(block[-1] + dt.timedelta(days=1), dt.time(), plan.zone)
                    yield {"doctor_id": plan.id, "start": start, "end": end, "reason": "Annual leave"}

    # --- appointments ----------------------------------------------------------------------------
    def grid(self, plan: DoctorPlan) -> list[int]:
        """Every slot start (UTC epoch seconds) of the doctor over the seeded period."""
        today = self.now.date()
        starts: list[int] = []
        step = plan.slot_minutes * 60
        for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
            day = today + dt.timedelta(days=offset)
            if day.weekday() >= 5 or day in plan.days_off:
                continue
            for w_start, w_end in plan.windows:
                first = dt.datetime.combine(day, dt.time(w_start // 60, w_start % 60), plan.zone)
                base = int(first.timestamp())
                starts.extend(base + k * step for k in range((w_end - w_start) * 60 // step))
        return starts

    def plan_appointments(
        self, plans: list[DoctorPlan], patient_ids: list[int], total: int
    ) -> list[tuple[int, int, int, int, str]]:
        """(start, end, doctor, patient, status) tuples in start order."""
        rng, now_ts = self.rng, int(self.now.timestamp())
        weights = [4 if n % BUSY_DOCTOR_EVERY == 0 else 1 for n in range(len(plans))]
        scale = total / sum(weights)
        # A fifth of each doctor's grid stays free for bookings. Grids are rebuilt below rather than
        # kept: 2,000 of them hold ten million epoch seconds.
        caps = [int(len(self.grid(plan)) * 0.8) for plan in plans]
        counts = [min(round(weight * scale), cap) for weight, cap in zip(weights, caps, strict=True)]
        missing = total - sum(counts)
        for n in range(len(counts)):  # whatever did not fit goes to doctors with room left
            if missing <= 0:
                break
            extra = min(missing, caps[n] - counts[n])
            counts[n] += extra
            missing -= extra
        raw: list[tuple[int, int, int]] = []
        for plan, count in zip(plans, counts, strict=True):
            step = plan.slot_minutes * 60
            raw.extend((start, start + step, plan.id) for start in rng.sample(self.grid(plan), count))
        del raw[total:]
        raw.sort()

        # Deal patients out in time order; a patient still busy at `start` is skipped (only possible
        # with tiny patient counts). Newly registered ("idle") patients get nothing.
        active_patients = patient_ids[: max(1, int(len(patient_ids) * (1 - IDLE_PATIENT_SHARE)))]
        order = active_patients[:]
        rng.shuffle(order)
        busy_until: dict[int, int] = {}
        past_choices, past_w = zip(*PAST_STATUSES, strict=True)
        future_choices, future_w = zip(*FUTURE_STATUSES, strict=True)
        result: list[tuple[int, int, int, int, str]] = []
        cursor = 0
        for start, end, doctor in raw:
            status = rng.choices(
                past_choices if start < now_ts else future_choices, past_w if start < now_ts else future_w
            )[0]
            active = status in ACTIVE_STATUSES
            for _ in range(len(order)):
                patient = order[cursor]
                cursor = (cursor + 1) % len(order)
                if not active or busy_until.get(patient, 0) <= start:
                    break
            else:
                continue  # every patient is busy at this time: leave the slot empty
            if active:
                busy_until[patient] = end
            result.append((start, end, doctor, patient, status))
        return result

    def appointment_rows(self, appts: list[tuple[int, int, int, int, str]], first_id: int) -> Iterator[dict]:
        rng, now_ts = self.rng, self.now.timestamp()
        reasons = ["Check-up", "Follow-up", "Persistent cough", "Back pain", "Headache", "Lab results", "Rash", ""]
        for n, (start, end, doctor, patient, status) in enumerate(appts):
            created = min(start - rng.randrange(3600, 30 * 86400), now_ts - 60)
            confirmed = status not in (Status.PENDING, Status.CANCELLED) or (status == Status.CANCELLED and n % 2)
            yield {
                "id": first_id + n,
                "doctor_id": doctor,
                "patient_id": patient,
                "start": iso(start),
                "end": iso(end),
                "reason_for_visit": reasons[n % len(reasons)],
                "status": status,
                "location": "Room 3, 1 Health Street" if confirmed else "",
                "cancellation_reason": "Patient unavailable" if status == Status.CANCELLED else "",
                "created_by_id": patient if n % 4 else doctor,
                "created_at": iso(created),
                "updated_at": iso(min(created + 86400, now_ts)),
            }

    def history_rows(self, appts: list[tuple[int, int, int, int, str]], first_id: int) -> Iterator[dict]:
        now_ts = self.now.timestamp()
        for n, (start, _end, doctor, patient, status) in enumerate(appts):
            at = min(start - 86400, now_ts - 60)
            for k, (before, after) in enumerate(HISTORY[status]):
                by = patient if after in (Status.PENDING, Status.CANCELLED) else doctor
                when = at + k * 3600 if after not in (Status.COMPLETED, Status.NO_SHOW) else start + 3600
                yield {
                    "appointment_id": first_id + n,
                    "from_status": before,
                    "to_status": after,
                    "by_id": by,
                    "at": iso(min(when, now_ts)),
                    "reason": "",
                }
