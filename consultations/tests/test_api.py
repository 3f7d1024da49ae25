import datetime as dt
import json

import pytest

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory, next_slot
from consultations.choices import AccessAction, AccessChannel
from consultations.models import Consultation, ConsultationAccessLog
from consultations.tests.factories import ConsultationFactory
from users.tests.factories import DoctorFactory, PatientFactory

LIST = "/api/consultations/"


def detail(pk: int) -> str:
    return f"/api/consultations/{pk}/"


def revisions(pk: int) -> str:
    return f"/api/consultations/{pk}/revisions/"


PRESCRIPTION = {"drug": "Amoxicillin", "dose": "500 mg", "frequency": "8-hourly", "duration": "7 days"}
CONTENT = {
    "medical_history": "Cough for 3 days.",
    "examination_findings": "Crackles, left base.",
    "investigations": "Chest X-ray.",
    "treatment_plan": "Antibiotics.",
    "prescriptions": [PRESCRIPTION],
    "review_date": None,
}
ACTORS = ["anonymous", "patient", "other_patient", "doctor", "other_doctor", "staff"]


@pytest.fixture
def actor_client(request, client_for):
    def make(actor: str):
        user = None if actor == "anonymous" else request.getfixturevalue(actor)
        return client_for(user)

    return make


# --- permission matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("patient", 200), ("other_patient", 200), ("doctor", 200), ("other_doctor", 200),
     ("staff", 403)],
)  # fmt: skip
def test_actor_list_consultations_status(actor_client, consultation, actor, expected):
    r = actor_client(actor).get(LIST)
    assert r.status_code == expected
    if expected == 200:
        ids = [item["id"] for item in r.json()["results"]]
        assert ids == ([consultation.pk] if actor in ("patient", "doctor") else [])


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("patient", 200), ("other_patient", 404), ("doctor", 200), ("other_doctor", 404),
     ("staff", 200)],
)  # fmt: skip
def test_actor_retrieve_consultation_status(actor_client, consultation, actor, expected):
    r = actor_client(actor).get(detail(consultation.pk))
    assert r.status_code == expected
    if expected == 200:
        assert r.json()["id"] == consultation.pk


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("patient", 403), ("other_patient", 403), ("doctor", 201), ("other_doctor", 400),
     ("staff", 403)],
)  # fmt: skip
def test_actor_create_consultation_status(actor_client, appointment, actor, expected):
    r = actor_client(actor).post(LIST, {"appointment": appointment.pk, **CONTENT}, format="json")
    assert r.status_code == expected
    assert Consultation.objects.filter(appointment=appointment).exists() == (expected == 201)
    if actor == "other_doctor":
        assert r.json() == {"appointment": ["No such appointment."]}


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("patient", 403), ("other_patient", 404), ("doctor", 200), ("other_doctor", 404),
     ("staff", 403)],
)  # fmt: skip
def test_actor_update_consultation_status(actor_client, consultation, method, actor, expected):
    body = {**CONTENT, "treatment_plan": "Changed plan."}
    r = getattr(actor_client(actor), method)(detail(consultation.pk), body, format="json")
    assert r.status_code == expected
    consultation.refresh_from_db()
    assert (consultation.treatment_plan == "Changed plan.") == (expected == 200)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("patient", 405), ("other_patient", 405), ("doctor", 405), ("other_doctor", 405),
     ("staff", 405)],
)  # fmt: skip
def test_actor_delete_consultation_status(actor_client, consultation, actor, expected):
    r = actor_client(actor).delete(detail(consultation.pk))
    assert r.status_code == expected
    assert Consultation.objects.filter(pk=consultation.pk).exists()


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("patient", 200), ("other_patient", 404), ("doctor", 200), ("other_doctor", 404),
     ("staff", 403)],
)  # fmt: skip
def test_actor_list_revisions_status(actor_client, consultation, actor, expected):
    r = actor_client(actor).get(revisions(consultation.pk))
    assert r.status_code == expected


def test_staff_delete_superuser_consultation_returns_405(client_for, consultation):
    superuser = DoctorFactory(is_staff=True, is_superuser=True)
    assert client_for(superuser).delete(detail(consultation.pk)).status_code == 405
    assert Consultation.objects.filter(pk=consultation.pk).exists()


# --- create -------------------------------------------------------------------------------------------


def test_doctor_create_consultation_returns_contract_shape(client_for, doctor, patient, appointment):
    r = client_for(doctor).post(LIST, {"appointment": appointment.pk, **CONTENT}, format="json")
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {
        "id", "appointment", "doctor", "patient", "medical_history", "examination_findings", "investigations",
        "treatment_plan", "prescriptions", "review_date", "created_at", "updated_at",
    }  # fmt: skip
    assert (body["appointment"], body["doctor"], body["patient"]) == (appointment.pk, doctor.pk, patient.pk)
    assert body["prescriptions"] == [{**PRESCRIPTION, "notes": ""}]
    assert body["treatment_plan"] == "Antibiotics."
    assert body["created_at"].endswith(("Z", "+00:00"))


def test_doctor_create_consultation_with_only_appointment_returns_201_with_blank_content(
    client_for, doctor, appointment
):
    r = client_for(doctor).post(LIST, {"appointment": appointment.pk}, format="json")
    assert r.status_code == 201
    assert r.json()["prescriptions"] == []
    assert r.json()["medical_history"] == ""


@pytest.mark.parametrize("appointment_status", [s.value for s in Status])
def test_doctor_create_consultation_for_each_status(client_for, doctor, patient, appointment_status):
    appt = AppointmentFactory(doctor=doctor, patient=patient, status=appointment_status)
    r = client_for(doctor).post(LIST, {"appointment": appt.pk, **CONTENT}, format="json")
    if appointment_status in (Status.CONFIRMED, Status.COMPLETED):
        assert r.status_code == 201
    else:
        assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
        assert not Consultation.objects.filter(appointment=appt).exists()


def test_doctor_create_second_consultation_returns_409_already_exists(client_for, doctor, consultation):
    r = client_for(doctor).post(LIST, {"appointment": consultation.appointment_id, **CONTENT}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "already_exists")
    assert Consultation.objects.filter(appointment_id=consultation.appointment_id).count() == 1


def test_doctor_create_for_missing_appointment_returns_400(client_for, doctor):
    r = client_for(doctor).post(LIST, {"appointment": 987654, **CONTENT}, format="json")
    assert r.status_code == 400
    assert r.json() == {"appointment": ["No such appointment."]}


def test_doctor_create_for_huge_appointment_id_returns_400(client_for, doctor):
    r = client_for(doctor).post(LIST, {"appointment": 10**30}, format="json")
    assert r.status_code == 400
    assert "appointment" in r.json()


def test_doctor_create_review_date_before_appointment_returns_400(client_for, doctor, appointment):
    day_before = (appointment.start - dt.timedelta(days=1)).date()
    body = {"appointment": appointment.pk, **CONTENT, "review_date": day_before.isoformat()}
    r = client_for(doctor).post(LIST, body, format="json")
    assert r.status_code == 400
    assert "review_date" in r.json()


def test_doctor_create_review_date_on_appointment_day_returns_201(client_for, doctor, appointment):
    body = {"appointment": appointment.pk, **CONTENT, "review_date": appointment.start.date().isoformat()}
    r = client_for(doctor).post(LIST, body, format="json")
    assert r.status_code == 201
    assert r.json()["review_date"] == appointment.start.date().isoformat()


def test_doctor_create_review_date_uses_doctor_local_date(client_for, patient):
    # 23:30 UTC is already the next day in Nairobi (UTC+3), the doctor's time zone.
    doctor = DoctorFactory(doctor_profile__timezone="Africa/Nairobi")
    start = dt.datetime.combine(dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3), dt.time(23, 30), tzinfo=dt.UTC)
    appt = AppointmentFactory(doctor=doctor, patient=patient, start=start, status=Status.CONFIRMED)
    utc_day = start.date().isoformat()
    r = client_for(doctor).post(LIST, {"appointment": appt.pk, "review_date": utc_day}, format="json")
    assert r.status_code == 400
    next_day = (start.date() + dt.timedelta(days=1)).isoformat()
    r = client_for(doctor).post(LIST, {"appointment": appt.pk, "review_date": next_day}, format="json")
    assert r.status_code == 201


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prescriptions", "error_key"),
    [
        ("Paracetamol", None),
        ({"drug": "x"}, None),
        (None, None),
        ([PRESCRIPTION, "just text"], None),
        ([{**PRESCRIPTION, "drug": ""}], "drug"),
        ([{**PRESCRIPTION, "drug": "   "}], "drug"),
        ([{k: v for k, v in PRESCRIPTION.items() if k != "dose"}], "dose"),
        ([{**PRESCRIPTION, "frequency": 3}], "frequency"),
        ([{**PRESCRIPTION, "duration": ["7 days"]}], "duration"),
        ([{**PRESCRIPTION, "duration": None}], "duration"),
        ([{**PRESCRIPTION, "notes": 12}], "notes"),
        ([{**PRESCRIPTION, "colour": "blue"}], "colour"),
        ([{**PRESCRIPTION, "drug": "x" * 201}], "drug"),
        ([{**PRESCRIPTION, "notes": "x" * 1001}], "notes"),
        ([{**PRESCRIPTION, "drug": "bad\x00byte"}], "drug"),
        ([PRESCRIPTION] * 51, None),
    ],
)
def test_doctor_create_bad_prescriptions_returns_400(client_for, doctor, appointment, prescriptions, error_key):
    r = client_for(doctor).post(LIST, {"appointment": appointment.pk, "prescriptions": prescriptions}, format="json")
    assert r.status_code == 400
    errors = r.json()["prescriptions"]
    if error_key is not None:
        assert error_key in errors["0"]  # DRF keys list item errors by index
    assert not Consultation.objects.exists()


def test_doctor_create_lone_surrogate_returns_400(client_for, doctor, appointment):
    raw = '{"appointment": ' + str(appointment.pk) + ', "treatment_plan": "\\ud800"}'
    r = client_for(doctor).post(LIST, raw, content_type="application/json")
    assert r.status_code == 400
    assert "treatment_plan" in r.json()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '"a string"',
        "null",
        '{"appointment": "abc"}',
        '{"appointment": [1]}',
        '{"appointment": {"id": 1}}',
        '{"appointment": null}',
        '{"appointment": true}',
        "{}",
    ],
)
def test_doctor_create_garbage_body_returns_400(client_for, doctor, appointment, body):
    r = client_for(doctor).post(LIST, body, content_type="application/json")
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("treatment_plan", 12),
        ("treatment_plan", ["a"]),
        ("treatment_plan", {"a": 1}),
        ("treatment_plan", None),
        ("medical_history", "x" * 20_001),
        ("review_date", "tomorrow"),
        ("review_date", "2030-02-30"),
        ("review_date", "2030-01-01T10:00:00Z"),
        ("review_date", 20300101),
    ],
)
def test_doctor_create_bad_field_returns_400(client_for, doctor, appointment, field, value):
    r = client_for(doctor).post(LIST, {"appointment": appointment.pk, field: value}, format="json")
    assert r.status_code == 400
    assert field in r.json()


@pytest.mark.parametrize("body", ["not json", "[]", '{"prescriptions": "x"}', '{"review_date": "soon"}'])
def test_doctor_patch_garbage_body_returns_400(client_for, doctor, consultation, body):
    r = client_for(doctor).patch(detail(consultation.pk), body, content_type="application/json")
    assert r.status_code == 400


def test_doctor_put_missing_fields_returns_400(client_for, doctor, consultation):
    r = client_for(doctor).put(detail(consultation.pk), {"treatment_plan": "Only this."}, format="json")
    assert r.status_code == 400
    assert {"medical_history", "prescriptions", "review_date"} <= set(r.json())


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "-1", "1.5"])
def test_doctor_retrieve_garbage_id_returns_404(client_for, doctor, consultation, pk):
    assert client_for(doctor).get(f"/api/consultations/{pk}/").status_code == 404


@pytest.mark.parametrize("query", ["appointment=abc", "patient=1.5x", "page=abc", "ordering=nonsense", "page=0"])
def test_doctor_list_garbage_query_does_not_500(client_for, doctor, consultation, query):
    r = client_for(doctor).get(f"{LIST}?{query}")
    assert r.status_code in (200, 400, 404)


# --- list filters and pagination -----------------------------------------------------------------------


def test_doctor_list_filters_by_patient_and_appointment(client_for, doctor, patient, other_patient):
    mine = ConsultationFactory(appointment__doctor=doctor, appointment__patient=patient)
    other = ConsultationFactory(appointment__doctor=doctor, appointment__patient=other_patient)
    client = client_for(doctor)
    assert [c["id"] for c in client.get(f"{LIST}?patient={patient.pk}").json()["results"]] == [mine.pk]
    assert [c["id"] for c in client.get(f"{LIST}?appointment={other.appointment_id}").json()["results"]] == [other.pk]


def test_patient_list_filter_other_patient_returns_nothing(client_for, patient, other_patient, consultation):
    ConsultationFactory(appointment__patient=other_patient)
    r = client_for(patient).get(f"{LIST}?patient={other_patient.pk}")
    assert r.json()["count"] == 0


def test_doctor_list_is_paginated(client_for, doctor):
    ConsultationFactory.create_batch(3, appointment__doctor=doctor)
    r = client_for(doctor).get(f"{LIST}?page_size=2")
    body = r.json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"] is not None


def test_doctor_list_query_count_is_capped(db, client_for, django_assert_max_num_queries):
    doctor = DoctorFactory()
    for _ in range(25):
        ConsultationFactory(appointment__doctor=doctor, appointment__patient=PatientFactory())
    client = client_for(doctor)
    with django_assert_max_num_queries(5):
        r = client.get(f"{LIST}?page_size=25")
    assert len(r.json()["results"]) == 25


def test_patient_list_query_count_is_capped(client_for, patient, django_assert_max_num_queries):
    for _ in range(25):
        ConsultationFactory(appointment__patient=patient, appointment__doctor=DoctorFactory())
    client = client_for(patient)
    with django_assert_max_num_queries(5):
        r = client.get(f"{LIST}?page_size=25")
    assert r.json()["count"] == 25


# --- update and revisions --------------------------------------------------------------------------------


def test_doctor_patch_consultation_changes_only_given_fields(client_for, doctor, consultation):
    r = client_for(doctor).patch(detail(consultation.pk), {"treatment_plan": "Physiotherapy."}, format="json")
    assert r.status_code == 200
    assert r.json()["treatment_plan"] == "Physiotherapy."
    assert r.json()["medical_history"] == "No known allergies."


def test_doctor_patch_cannot_move_consultation_to_other_appointment(client_for, doctor, consultation):
    other = AppointmentFactory(doctor=doctor, status=Status.CONFIRMED, start=next_slot(days=40))
    r = client_for(doctor).patch(detail(consultation.pk), {"appointment": other.pk, "patient": 1}, format="json")
    assert r.status_code == 200
    consultation.refresh_from_db()
    assert consultation.appointment_id != other.pk


def test_doctor_patch_review_date_before_appointment_returns_400(client_for, doctor, consultation):
    early = (consultation.appointment.start - dt.timedelta(days=2)).date().isoformat()
    r = client_for(doctor).patch(detail(consultation.pk), {"review_date": early}, format="json")
    assert r.status_code == 400
    assert "review_date" in r.json()


def test_patient_list_revisions_shows_who_when_what_and_old_values(client_for, doctor, patient, appointment):
    client = client_for(doctor)
    created = client.post(LIST, {"appointment": appointment.pk, **CONTENT}, format="json").json()
    review = (appointment.start + dt.timedelta(days=14)).date().isoformat()
    client.patch(detail(created["id"]), {"treatment_plan": "Plan B", "review_date": review}, format="json")
    new_rx = [{**PRESCRIPTION, "dose": "250 mg", "notes": "with food"}]
    client.patch(detail(created["id"]), {"prescriptions": new_rx, "treatment_plan": "Plan B"}, format="json")

    r = client_for(patient).get(revisions(created["id"]))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert first["changed_by"] == doctor.pk
    assert first["changed_fields"] == ["treatment_plan", "review_date"]
    assert first["old_values"] == {"treatment_plan": "Antibiotics.", "review_date": None}
    assert second["changed_fields"] == ["prescriptions"]
    assert second["old_values"] == {"prescriptions": [{**PRESCRIPTION, "notes": ""}]}
    assert first["changed_at"] <= second["changed_at"]
    assert client.get(detail(created["id"])).json()["prescriptions"] == new_rx


def test_patient_list_revisions_returns_each_earlier_version_in_full_oldest_first(
    client_for, doctor, patient, appointment
):
    client = client_for(doctor)
    created = client.post(LIST, {"appointment": appointment.pk, **CONTENT}, format="json").json()
    review = (appointment.start + dt.timedelta(days=14)).date().isoformat()
    client.patch(detail(created["id"]), {"treatment_plan": "Plan B", "review_date": review}, format="json")
    client.patch(detail(created["id"]), {"medical_history": "Cough for 5 days."}, format="json")

    first, second = client_for(patient).get(revisions(created["id"])).json()["results"]
    content_fields = ["medical_history", "examination_findings", "investigations", "treatment_plan"]
    assert {name: first[name] for name in content_fields} == {name: CONTENT[name] for name in content_fields}
    assert first["prescriptions"] == [{**PRESCRIPTION, "notes": ""}]
    assert first["review_date"] is None
    assert (second["medical_history"], second["treatment_plan"], second["review_date"]) == (
        CONTENT["medical_history"],
        "Plan B",
        review,
    )


def test_doctor_list_revisions_of_unchanged_consultation_is_empty(client_for, doctor, consultation):
    r = client_for(doctor).get(revisions(consultation.pk))
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_doctor_patch_without_changes_adds_no_revision(client_for, doctor, consultation):
    client = client_for(doctor)
    r = client.patch(detail(consultation.pk), {"treatment_plan": consultation.treatment_plan}, format="json")
    assert r.status_code == 200
    assert client.get(revisions(consultation.pk)).json()["count"] == 0


# --- audit -----------------------------------------------------------------------------------------------


def _logs() -> list[tuple]:
    return list(
        ConsultationAccessLog.objects.order_by("id").values_list("actor_id", "action", "consultation_id", "channel")
    )


def test_doctor_create_and_update_write_audit_rows(client_for, doctor, appointment):
    client = client_for(doctor)
    pk = client.post(LIST, {"appointment": appointment.pk, **CONTENT}, format="json").json()["id"]
    client.patch(detail(pk), {"treatment_plan": "Plan B"}, format="json")
    assert _logs() == [(doctor.pk, AccessAction.CREATE, pk, "api"), (doctor.pk, AccessAction.UPDATE, pk, "api")]


def test_reads_write_audit_rows(client_for, doctor, patient, staff, consultation):
    other = ConsultationFactory(appointment__doctor=doctor)
    client_for(doctor).get(LIST)
    client_for(patient).get(detail(consultation.pk))
    client_for(staff).get(detail(consultation.pk))
    client_for(patient).get(revisions(consultation.pk))
    assert sorted(_logs()) == sorted(
        [
            (doctor.pk, AccessAction.LIST, consultation.pk, "api"),
            (doctor.pk, AccessAction.LIST, other.pk, "api"),
            (patient.pk, AccessAction.VIEW, consultation.pk, "api"),
            (staff.pk, AccessAction.VIEW, consultation.pk, "api"),
            (patient.pk, AccessAction.HISTORY, consultation.pk, "api"),
        ]
    )


def test_head_is_audited_like_the_read_it_answers_for(client_for, patient, consultation):
    # HEAD computes the same response as GET (status, length) for the record: it is kept as an access.
    assert client_for(patient).head(detail(consultation.pk)).status_code == 200
    assert _logs() == [(patient.pk, AccessAction.VIEW, consultation.pk, "api")]


def test_refused_requests_write_no_audit_rows(client_for, other_doctor, other_patient, consultation):
    client_for(other_doctor).get(detail(consultation.pk))
    client_for(other_patient).patch(detail(consultation.pk), {"treatment_plan": "x"}, format="json")
    client_for(None).get(LIST)
    assert _logs() == []


def test_failed_create_writes_no_audit_row(client_for, doctor, consultation):
    client_for(doctor).post(LIST, {"appointment": consultation.appointment_id}, format="json")
    assert _logs() == []


def test_audit_rows_hold_no_medical_content(client_for, doctor, patient, appointment):
    client = client_for(doctor)
    pk = client.post(LIST, {"appointment": appointment.pk, **CONTENT}, format="json").json()["id"]
    client.patch(detail(pk), {"treatment_plan": "Secret plan"}, format="json")
    client_for(patient).get(detail(pk))
    client_for(patient).get(revisions(pk))
    dumped = json.dumps(list(ConsultationAccessLog.objects.values()), default=str)
    for text in ["Cough", "Crackles", "X-ray", "Antibiotics", "Amoxicillin", "Secret plan"]:
        assert text not in dumped
    field_names = {f.name for f in ConsultationAccessLog._meta.get_fields()}
    assert field_names == {"id", "actor", "action", "consultation", "channel", "client_ip", "at"}


def test_audit_row_records_remote_addr(client_for, doctor, consultation):
    client_for(doctor).get(detail(consultation.pk), REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    log = ConsultationAccessLog.objects.get()
    assert (log.client_ip, log.channel) == ("203.0.113.9", AccessChannel.API)


def test_audit_row_honours_num_proxies(client_for, doctor, consultation, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client_for(doctor).get(
        detail(consultation.pk), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.50"
    )
    assert ConsultationAccessLog.objects.get().client_ip == "203.0.113.50"


def test_audit_row_with_forged_header_falls_back_to_peer(client_for, doctor, consultation, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client_for(doctor).get(detail(consultation.pk), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert ConsultationAccessLog.objects.get().client_ip == "10.0.0.1"


# --- signal ----------------------------------------------------------------------------------------------


def test_doctor_create_and_update_send_signal_once_each(client_for, doctor, appointment, signal_calls):
    client = client_for(doctor)
    pk = client.post(LIST, {"appointment": appointment.pk, **CONTENT}, format="json").json()["id"]
    assert [(c["consultation"].pk, c["created"], c["actor"]) for c in signal_calls] == [(pk, True, doctor)]
    client.patch(detail(pk), {"treatment_plan": "Plan B"}, format="json")
    assert [(c["created"], c["actor"]) for c in signal_calls] == [(True, doctor), (False, doctor)]
    assert signal_calls[1]["consultation"].treatment_plan == "Plan B"


def test_refused_writes_send_no_signal(client_for, doctor, patient, consultation, signal_calls):
    client_for(doctor).post(LIST, {"appointment": consultation.appointment_id}, format="json")
    client_for(patient).patch(detail(consultation.pk), {"treatment_plan": "x"}, format="json")
    client_for(doctor).patch(detail(consultation.pk), {"treatment_plan": consultation.treatment_plan}, format="json")
    assert signal_calls == []


def test_doctor_delete_response_does_not_advertise_delete(client_for, doctor, consultation):
    r = client_for(doctor).delete(detail(consultation.pk))
    assert r.status_code == 405
    assert "DELETE" not in r["Allow"]
    assert "PATCH" in r["Allow"]


@pytest.mark.parametrize("actor", ACTORS)
def test_actor_options_and_head_do_not_500(actor_client, consultation, actor):
    client = actor_client(actor)
    for url in (LIST, detail(consultation.pk), revisions(consultation.pk)):
        assert client.options(url).status_code < 500
        assert client.head(url).status_code < 500


def test_doctor_update_with_real_jwt_records_history_user(api_client, doctor, consultation):
    from rest_framework_simplejwt.tokens import AccessToken

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(doctor)}")
    r = api_client.patch(detail(consultation.pk), {"treatment_plan": "Via JWT"}, format="json")
    assert r.status_code == 200
    assert consultation.history.order_by("-history_date").first().history_user == doctor
    assert api_client.get(revisions(consultation.pk)).json()["results"][0]["changed_by"] == doctor.pk
