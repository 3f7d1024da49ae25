import csv
import datetime as dt
import io
import logging
from zoneinfo import ZoneInfo

import pytest
from rest_framework.renderers import JSONRenderer

from notifications.tests.factories import NotificationFactory
from reports import selectors
from reports.api.serializers import DoctorRowSerializer
from reports.selectors import Period, Scope
from reports.tests.conftest import settings_queries
from reports.tests.test_selectors import CLINIC_BERLIN, DOCTOR_A, DOCTOR_B
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory

WEEK = "from=2030-03-25&to=2030-03-31"
REPORTS = ["/api/reports/summary/", "/api/reports/timeseries/", "/api/reports/doctors/"]


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def as_csv_text(value: object) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("path", [*REPORTS, "/api/dashboard/"])
def test_anonymous_gets_401(client_for, path, db):
    assert client_for(None).get(f"{path}?{WEEK}").status_code == 401


@pytest.mark.parametrize("path", REPORTS)
def test_patient_gets_403_on_reports(client_for, patient, path):
    assert client_for(patient).get(f"{path}?{WEEK}").status_code == 403


def test_doctor_gets_own_summary_in_their_zone(client_for, clinic):
    r = client_for(clinic.a).get(f"/api/reports/summary/?{WEEK}")
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in DOCTOR_A} == DOCTOR_A
    assert (body["timezone"], body["doctor"], body["from"]) == ("Europe/Berlin", clinic.a.pk, "2030-03-25")


def test_doctor_naming_themselves_is_fine_and_another_doctor_is_403(client_for, clinic):
    client = client_for(clinic.a)
    assert client.get(f"/api/reports/summary/?{WEEK}&doctor={clinic.a.pk}").status_code == 200
    r = client.get(f"/api/reports/summary/?{WEEK}&doctor={clinic.b.pk}")
    assert (r.status_code, r.json()["detail"]) == (403, "Doctors can only read their own figures.")
    assert client.get(f"/api/reports/timeseries/?{WEEK}&doctor={clinic.b.pk}").status_code == 403


def test_doctor_gets_403_on_the_per_doctor_report(client_for, clinic):
    assert client_for(clinic.a).get(f"/api/reports/doctors/?{WEEK}").status_code == 403


def test_staff_get_the_clinic_summary_and_one_doctor_in_that_doctors_zone(client_for, clinic, staff):
    client = client_for(staff)
    body = client.get(f"/api/reports/summary/?{WEEK}&tz=Europe/Berlin").json()
    assert {k: body[k] for k in CLINIC_BERLIN} == CLINIC_BERLIN
    # Staff reading one doctor see what that doctor sees.
    one = client.get(f"/api/reports/summary/?{WEEK}&doctor={clinic.a.pk}").json()
    assert {k: one[k] for k in DOCTOR_A} == DOCTOR_A


def test_staff_per_doctor_report(client_for, clinic, staff):
    rows = client_for(staff).get(f"/api/reports/doctors/?{WEEK}&tz=Europe/Berlin").json()
    assert [{k: row[k] for k in DOCTOR_A} for row in rows] == [DOCTOR_A, DOCTOR_B]


def test_timeseries_has_every_bucket(client_for, clinic):
    rows = client_for(clinic.a).get(f"/api/reports/timeseries/?{WEEK}&bucket=day").json()
    assert [(row["bucket"], row["appointments"]) for row in rows] == [
        ("2030-03-25", 4),
        ("2030-03-26", 0),
        ("2030-03-27", 0),
        ("2030-03-28", 0),
        ("2030-03-29", 0),
        ("2030-03-30", 0),
        ("2030-03-31", 4),
    ]


@pytest.mark.parametrize(
    ("path", "how"),
    [(p, how) for p in REPORTS for how in ("accept", "format")],
)
def test_csv_rows_equal_the_json(client_for, clinic, staff, path, how):
    client = client_for(staff)
    query = f"{path}?{WEEK}&tz=Europe/Berlin"
    body = client.get(query).json()
    rows_json = body if isinstance(body, list) else [body]
    r = client.get(query, HTTP_ACCEPT="text/csv") if how == "accept" else client.get(f"{query}&format=csv")
    assert r.status_code == 200
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"].startswith("attachment; filename=")
    rows = csv_rows(r)
    assert rows == [{k: as_csv_text(v) for k, v in row.items()} for row in rows_json]


@pytest.mark.parametrize("tz", ["Europe/Berlin", "UTC"])
def test_per_doctor_json_is_byte_for_byte_what_the_serializer_renders(client_for, clinic, staff, tz):
    DoctorFactory(first_name="Idle", last_name="Zander")  # no appointments, no rules: nulls and zeros
    r = client_for(staff).get(f"/api/reports/doctors/?{WEEK}&tz={tz}")
    rows = selectors.per_doctor(scope=Scope(), period=Period(dt.date(2030, 3, 25), dt.date(2030, 3, 31), ZoneInfo(tz)))
    assert r.content == JSONRenderer().render(DoctorRowSerializer(rows, many=True).data)
    assert {row["utilisation"] is None for row in r.json()} == {True, False}


def test_csv_neutralises_spreadsheet_formulas(client_for, db, staff):
    for name, specialty in (("=HYPERLINK(1)", "\tx"), ("+1", "\rx"), ("-2", "ok"), ("@SUM(A1)", "ok")):
        DoctorFactory(first_name=name, last_name="", doctor_profile__specialty__name=specialty)
    rows = csv_rows(client_for(staff).get(f"/api/reports/doctors/?{WEEK}&format=csv"))
    assert sorted(row["doctor_name"] for row in rows) == sorted(["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)"])
    assert sorted(row["specialty"] for row in rows) == sorted(["'\tx", "'\rx", "ok", "ok"])


def test_staff_export_is_logged_without_patient_data(client_for, clinic, staff, caplog):
    with caplog.at_level(logging.INFO, logger="reports.export"):
        client_for(staff).get(f"/api/reports/doctors/?{WEEK}&format=csv")
        client_for(staff).get(f"/api/reports/doctors/?{WEEK}")  # JSON is not an export
    lines = [r.getMessage() for r in caplog.records if r.name == "reports.export"]
    assert lines == [f"report export user={staff.pk} report=doctors from=2030-03-25 to=2030-03-31 tz=UTC"]


def test_errors_are_json_even_when_csv_was_asked_for(client_for, clinic, staff):
    r = client_for(staff).get("/api/reports/summary/?from=2030-03-25&format=csv")
    assert (r.status_code, r["Content-Type"]) == (400, "application/json")
    assert "to" in r.json()
    r = client_for(None).get(f"/api/reports/summary/?{WEEK}", HTTP_ACCEPT="text/csv")
    assert (r.status_code, r["Content-Type"]) == (401, "application/json")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2030-03-31&to=2030-03-25", "to"),
        ("from=2030-01-01&to=2031-01-02", "to"),
        ("from=2030-01-01", "to"),
        ("to=2030-01-01", "from"),
        ("", "from"),
        ("from=1e400&to=2030-01-01", "from"),
        ("from=99999-01-01&to=2030-01-01", "from"),
        ("from=2030-01-01&to=9999-12-31", "to"),
        ("from[]=2030-01-01&to=2030-01-02", "from"),
        (f"{WEEK}&doctor=999999", "doctor"),
        (f"{WEEK}&doctor=1e400", "doctor"),
        (f"{WEEK}&doctor=1.5", "doctor"),
        (f"{WEEK}&doctor=-3", "doctor"),
        (f"{WEEK}&doctor=99999999999999999999999", "doctor"),
        (f"{WEEK}&specialty=999999", "specialty"),
        (f"{WEEK}&tz=localtime", "tz"),
        (f"{WEEK}&tz=Mars/Olympus", "tz"),
        (f"{WEEK}&tz=" + "x" * 300, "tz"),
        (f"{WEEK}&bucket=year", "bucket"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client_for, db, query, field):
    staff = StaffFactory()
    r = client_for(staff).get(f"/api/reports/timeseries/?{query}")
    assert r.status_code == 400
    assert field in r.json()


def test_a_366_day_range_is_allowed(client_for, db):
    r = client_for(StaffFactory()).get("/api/reports/summary/?from=2028-01-01&to=2028-12-31")
    assert r.status_code == 200


def test_range_at_the_end_of_the_calendar_is_not_a_500(client_for, db):
    r = client_for(StaffFactory()).get(
        "/api/reports/timeseries/?from=9999-01-01&to=9999-12-24&bucket=month&tz=Pacific/Kiritimati"
    )
    assert r.status_code == 200
    assert len(r.json()) == 12


@pytest.mark.parametrize("doctors", [2, 20])
def test_report_endpoints_run_a_bounded_number_of_queries(client_for, clinic, doctors, django_assert_max_num_queries):
    for _ in range(doctors - 2):
        DoctorFactory()
    client = client_for(StaffFactory())
    for path in REPORTS:
        with django_assert_max_num_queries(8 + settings_queries()):
            assert (
                client.get(
                    f"{path}?from=2029-04-01&to=2030-03-31&specialty={clinic.b.doctor_profile.specialty_id}"
                ).status_code
                == 200
            )


# --- Dashboard -------------------------------------------------------------------------------------


def test_patient_dashboard(client_for, clinic, frozen):
    p6 = clinic.patients["P6"]
    NotificationFactory(user=p6, is_read=False)
    NotificationFactory(user=p6, is_read=True)
    body = client_for(p6).get("/api/dashboard/").json()
    assert body["role"] == "patient"
    assert (body["next_appointment"]["id"], body["upcoming_count"]) == (clinic.appointments["b1"].pk, 1)
    assert body["next_appointment"]["doctor_name"] == "Ben Brandt"
    assert body["unread_notifications"] == 1
    assert body["unread_messages"] == 0


def test_patient_dashboard_counts_unread_messages(client_for, patient, doctor):
    from messaging.tests.factories import MessageFactory, ThreadFactory

    thread = ThreadFactory(patient=patient, doctor=doctor)
    MessageFactory.create_batch(2, thread=thread, sender=doctor)
    MessageFactory(thread=thread, sender=patient)  # their own message is not unread
    assert client_for(patient).get("/api/dashboard/").json()["unread_messages"] == 2


def test_patient_without_appointments_has_no_next_one(client_for, db):
    body = client_for(PatientFactory()).get("/api/dashboard/").json()
    assert (body["next_appointment"], body["upcoming_count"], body["unread_notifications"]) == (None, 0, 0)


def test_doctor_dashboard_shows_today_in_their_zone(client_for, clinic, frozen):
    body = client_for(clinic.a).get("/api/dashboard/").json()
    ap = clinic.appointments
    assert (body["role"], body["today"], body["timezone"]) == ("doctor", "2030-03-25", "Europe/Berlin")
    assert [row["id"] for row in body["schedule"]] == [ap[k].pk for k in ("a1", "a7", "a8", "a2")]
    assert body["schedule"][0]["start"] == "2030-03-25T09:00:00+01:00"
    assert body["pending_requests"] == 1  # a7
    assert body["week_utilisation"] == DOCTOR_A["utilisation"]


def test_staff_dashboard_shows_todays_clinic_totals(client_for, clinic, frozen, staff):
    body = client_for(staff).get("/api/dashboard/").json()
    # Monday 25 March in UTC: a1, a7, a8, a2.
    assert (body["role"], body["today"], body["appointments"], body["completed"]) == ("staff", "2030-03-25", 4, 2)


def test_dashboard_runs_a_bounded_number_of_queries(client_for, clinic, frozen, staff, django_assert_max_num_queries):
    for user in (clinic.patients["P6"], clinic.a, staff):
        with django_assert_max_num_queries(8 + settings_queries()):
            assert client_for(user).get("/api/dashboard/").status_code == 200
