"""The reports' figures against a week computed by hand (fixture in conftest.py).

Doctor A, Berlin, 2030-03-25..31 (in range: a1..a8; a9 is 1 April local):
- counts: pending 1 (a7), completed 3 (a1, a3, a8), cancelled 2 (a4, a5), no_show 1 (a2), referred 1 (a6): 8
- no-show rate 1 / (3 + 1) = 0.25; cancellation rate 2 / 8 = 0.25; late cancellations 1 (a4, 13 h ahead)
- lead times 1, 24, 24, 24, 48, 72, 120, 120 h: median (24 + 48) / 2 = 36
- available: Monday 09:00-12:00 CET minus 1 h off = 120 min; Sunday 01:00 CET-05:00 CEST = 180 min
  (the DST jump): 300 min. Booked inside it: a1, a7, a2, a3 = 120 min (a8 lies in the time off): 0.4
- new: P3, P7 (first completed visit); returning: P1 (completed on 18 March)

Doctor B, UTC: pending 1 (b1, the referral), completed 1 (b2): no-show rate 0 / 1 = 0, cancellation 0;
lead 24 and 144 h: median 84; available Tuesday 480 min, booked 60: 0.125; P1 is new *to B*.

Clinic, read in Berlin: 10 appointments, pending 2, completed 4, cancelled 2, no_show 1, referred 1;
no-show 1 / 5 = 0.2, cancellation 2 / 10 = 0.2; median lead (24 + 48) / 2 = 36; 180 / 780 = 0.2308;
new P3, P7; returning P1 (returning to the clinic, though new to B).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from reports import queries, selectors
from reports.selectors import Period, Scope
from reports.tests.conftest import settings_queries
from users.tests.factories import DoctorFactory

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
WEEK = (dt.date(2030, 3, 25), dt.date(2030, 3, 31))

DOCTOR_A = {
    "appointments": 8,
    "pending": 1,
    "confirmed": 0,
    "completed": 3,
    "cancelled": 2,
    "no_show": 1,
    "referred": 1,
    "no_show_rate": 0.25,
    "cancellation_rate": 0.25,
    "late_cancellations": 1,
    "median_lead_time_hours": 36.0,
    "available_minutes": 300,
    "booked_minutes": 120,
    "utilisation": 0.4,
    "new_patients": 2,
    "returning_patients": 1,
}
DOCTOR_B = {
    "appointments": 2,
    "pending": 1,
    "confirmed": 0,
    "completed": 1,
    "cancelled": 0,
    "no_show": 0,
    "referred": 0,
    "no_show_rate": 0.0,
    "cancellation_rate": 0.0,
    "late_cancellations": 0,
    "median_lead_time_hours": 84.0,
    "available_minutes": 480,
    "booked_minutes": 60,
    "utilisation": 0.125,
    "new_patients": 1,
    "returning_patients": 0,
}
CLINIC_BERLIN = {
    "appointments": 10,
    "pending": 2,
    "confirmed": 0,
    "completed": 4,
    "cancelled": 2,
    "no_show": 1,
    "referred": 1,
    "no_show_rate": 0.2,
    "cancellation_rate": 0.2,
    "late_cancellations": 1,
    "median_lead_time_hours": 36.0,
    "available_minutes": 780,
    "booked_minutes": 180,
    "utilisation": 0.2308,
    "new_patients": 2,
    "returning_patients": 1,
}


def test_summary_of_one_doctor_over_a_dst_week_matches_the_hand_computed_figures(clinic):
    figures = selectors.summary(scope=Scope(doctor_id=clinic.a.pk), period=Period(*WEEK, BERLIN))
    assert figures == DOCTOR_A


def test_summary_of_the_clinic_judges_new_patients_against_the_clinic(clinic):
    assert selectors.summary(scope=Scope(), period=Period(*WEEK, BERLIN)) == CLINIC_BERLIN


def test_summary_in_utc_takes_the_appointment_of_1_april_berlin_time(clinic):
    figures = selectors.summary(scope=Scope(doctor_id=clinic.a.pk), period=Period(*WEEK, UTC))
    assert (figures["appointments"], figures["confirmed"], figures["available_minutes"]) == (9, 1, 300)


def test_specialty_scope_covers_only_its_doctors(clinic):
    cardiology = clinic.b.doctor_profile.specialty_id
    figures = selectors.summary(scope=Scope(specialty_id=cardiology), period=Period(*WEEK, BERLIN))
    assert (figures["appointments"], figures["available_minutes"]) == (2, 480)
    # Judged against the clinic (not one doctor): P1 had completed a visit with A before.
    assert (figures["new_patients"], figures["returning_patients"]) == (0, 1)


def test_per_doctor_rows_judge_new_patients_per_doctor(clinic):
    rows = selectors.per_doctor(scope=Scope(), period=Period(*WEEK, BERLIN))
    assert [row["doctor"] for row in rows] == [clinic.a.pk, clinic.b.pk]
    assert {k: rows[0][k] for k in DOCTOR_A} == DOCTOR_A
    assert {k: rows[1][k] for k in DOCTOR_B} == DOCTOR_B
    assert (rows[0]["doctor_name"], rows[1]["specialty"], rows[0]["timezone"]) == (
        "Anna Adler",
        "Cardiology",
        "Europe/Berlin",
    )


def test_daily_timeseries_includes_empty_days_and_the_short_dst_sunday(clinic):
    rows = selectors.timeseries(scope=Scope(doctor_id=clinic.a.pk), period=Period(*WEEK, BERLIN), bucket="day")
    assert [row["bucket"] for row in rows] == [dt.date(2030, 3, d) for d in range(25, 32)]
    assert [row["appointments"] for row in rows] == [4, 0, 0, 0, 0, 0, 4]
    assert [row["available_minutes"] for row in rows] == [120, 0, 0, 0, 0, 0, 180]
    assert [row["utilisation"] for row in rows] == [0.75, None, None, None, None, None, 0.1667]
    monday, sunday = rows[0], rows[-1]
    assert (monday["completed"], monday["no_show"], monday["pending"], monday["no_show_rate"]) == (2, 1, 1, 0.3333)
    assert (sunday["cancelled"], sunday["late_cancellations"], sunday["referred"]) == (2, 1, 1)
    assert (monday["new_patients"], monday["returning_patients"], sunday["new_patients"]) == (1, 1, 1)


def test_weekly_and_monthly_buckets_start_on_monday_and_the_first(clinic):
    scope, period = Scope(doctor_id=clinic.a.pk), Period(dt.date(2030, 3, 20), dt.date(2030, 4, 2), BERLIN)
    weeks = selectors.timeseries(scope=scope, period=period, bucket="week")
    assert [(row["bucket"], row["appointments"]) for row in weeks] == [
        (dt.date(2030, 3, 20), 0),
        (dt.date(2030, 3, 25), 8),
        (dt.date(2030, 4, 1), 1),  # a9
    ]
    months = selectors.timeseries(scope=scope, period=period, bucket="month")
    assert [(row["bucket"], row["appointments"]) for row in months] == [
        (dt.date(2030, 3, 20), 8),
        (dt.date(2030, 4, 1), 1),
    ]


def test_the_sum_of_buckets_is_the_summary(clinic):
    scope, period = Scope(), Period(*WEEK, BERLIN)
    rows = selectors.timeseries(scope=scope, period=period, bucket="day")
    for figure in ("appointments", "available_minutes", "booked_minutes", "late_cancellations"):
        assert sum(row[figure] for row in rows) == CLINIC_BERLIN[figure]


def test_an_empty_range_has_null_rates(db):
    figures = selectors.summary(scope=Scope(), period=Period(*WEEK, UTC))
    assert figures["appointments"] == 0
    assert figures["no_show_rate"] is figures["cancellation_rate"] is figures["utilisation"] is None
    assert figures["median_lead_time_hours"] is None


def test_buckets_near_the_end_of_the_calendar_do_not_overflow(db):
    period = Period(dt.date(9999, 11, 20), dt.date(9999, 12, 24), UTC)
    assert selectors.bucket_starts(period, "month") == [dt.date(9999, 11, 20), dt.date(9999, 12, 1)]
    assert len(selectors.timeseries(scope=Scope(), period=period, bucket="week")) == 6


@pytest.mark.parametrize("doctors", [2, 20])
def test_reports_run_a_fixed_number_of_queries_whatever_the_doctors_and_the_range(
    clinic, doctors, django_assert_max_num_queries
):
    from appointments.models import AvailabilityRule

    for _ in range(doctors - 2):
        extra = DoctorFactory(doctor_profile__timezone="America/New_York")
        AvailabilityRule.objects.create(doctor=extra, weekday=2, start_time=dt.time(8), end_time=dt.time(16))
    period = Period(dt.date(2029, 4, 1), dt.date(2030, 3, 31), BERLIN)
    with django_assert_max_num_queries(5 + settings_queries()):
        selectors.summary(scope=Scope(), period=period)
    with django_assert_max_num_queries(5 + settings_queries()):
        selectors.timeseries(scope=Scope(), period=period, bucket="day")
    with django_assert_max_num_queries(5 + settings_queries()):
        rows = selectors.per_doctor(scope=Scope(), period=period)
    assert len(rows) == doctors


def _settings() -> tuple[str, str] | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem')")
        return cursor.fetchone()


def test_report_statements_run_with_their_settings_which_are_put_back(clinic, monkeypatch):
    """PostgreSQL: JIT off and 32 MB of work_mem for the report's statements, the connection's own values
    afterwards, also when the report fails. SQLite: nothing to set."""
    before = _settings()
    seen = []
    real_rows = queries._rows

    def rows(sql: str, params: list) -> list[tuple]:
        seen.append(_settings())
        return real_rows(sql, params)

    monkeypatch.setattr(queries, "_rows", rows)
    selectors.summary(scope=Scope(), period=Period(*WEEK, BERLIN))
    expected = ("off", "32MB") if connection.vendor == "postgresql" else None
    assert seen == [expected, expected]
    assert _settings() == before

    def fail(frame: object, *args: object) -> list:
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "booked", fail)
    with pytest.raises(RuntimeError):
        selectors.summary(scope=Scope(), period=Period(*WEEK, BERLIN))
    assert _settings() == before
