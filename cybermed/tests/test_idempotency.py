"""Idempotency-Key on POST /api/appointments/ (the mechanism is generic: cybermed.idempotency + @idempotent)."""

import datetime as dt
import json
from collections import Counter

import pytest
import time_machine
from rest_framework.test import APIClient

from appointments.models import Appointment
from appointments.tests.conftest import open_all_week
from appointments.tests.factories import next_slot
from cybermed.idempotency import request_fingerprint, valid_key
from cybermed.models import IdempotencyKey
from cybermed.testing import run_together
from users.tests.factories import DoctorFactory, PatientFactory

URL = "/api/appointments/"


def book(client: APIClient, body: dict, key: str | None = "key-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(URL, body, format="json", headers=headers)


@pytest.fixture
def booking(db, doctor, patient, client_for):
    open_all_week(doctor)
    body = {"doctor": doctor.pk, "start": next_slot(days=3).isoformat(), "reason_for_visit": "cough"}
    return client_for(patient), body


def test_patient_replay_returns_first_response_and_books_once(booking):
    client, body = booking
    first = book(client, body)
    second = book(client, body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Appointment.objects.count() == 1


def test_patient_same_key_other_body_is_409(booking):
    client, body = booking
    assert book(client, body).status_code == 201
    response = book(client, {**body, "reason_for_visit": "fever"})
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_conflict")
    assert Appointment.objects.count() == 1


def test_key_order_and_spacing_of_the_body_do_not_matter(booking):
    client, body = booking
    assert book(client, body).status_code == 201
    reordered = dict(reversed(list(body.items())))
    assert book(client, reordered).status_code == 201
    assert Appointment.objects.count() == 1


def test_conflict_response_is_replayed_too(booking, other_patient, client_for):
    client, body = booking
    assert book(client_for(other_patient), body, key="theirs").status_code == 201
    first = book(client, body)
    assert (first.status_code, first.json()["code"]) == (409, "slot_unavailable")
    Appointment.objects.all().delete()  # the slot is free again; the retry still gets the first answer
    replay = book(client, body)
    assert (replay.status_code, replay.json()) == (409, first.json())


def test_keys_are_per_user(booking, other_patient, client_for):
    client, body = booking
    assert book(client, body).status_code == 201
    response = book(client_for(other_patient), body)  # same key, another user: their own request
    assert (response.status_code, response.json()["code"]) == (409, "slot_unavailable")


def test_without_key_each_post_is_a_new_request(booking):
    client, body = booking
    assert book(client, body, key=None).status_code == 201
    assert book(client, body, key=None).status_code == 409


def test_key_expires_after_24_hours(booking):
    client, body = booking
    start = dt.datetime.fromisoformat(body["start"])
    with time_machine.travel(start - dt.timedelta(days=3), tick=False) as clock:
        assert book(client, body).status_code == 201
        clock.shift(dt.timedelta(hours=23, minutes=59))
        assert book(client, {**body, "reason_for_visit": "x"}).status_code == 409
        clock.shift(dt.timedelta(minutes=2))
        response = book(client, {**body, "reason_for_visit": "x"})  # a new request: the slot is now mine already
        assert (response.status_code, response.json()["code"]) == (409, "slot_unavailable")
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there", "\x7f"])
def test_bad_key_is_400(booking, key):
    client, body = booking
    response = client.post(URL, body, format="json", headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Appointment.objects.count() == 0


def test_anonymous_with_key_is_401(db):
    assert book(APIClient(), {}).status_code == 401
    assert IdempotencyKey.objects.count() == 0


def test_validation_error_is_stored_and_replayed(booking):
    client, _ = booking
    first = book(client, {"start": "nope"})
    assert first.status_code == 400
    assert book(client, {"start": "nope"}).json() == first.json()


def test_server_error_is_not_stored(booking, monkeypatch):
    client, body = booking
    from appointments import services

    def boom(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "appointment_book", boom)
    assert book(client, body).status_code == 500
    assert IdempotencyKey.objects.count() == 0
    monkeypatch.undo()
    assert book(client, body).status_code == 201


def test_valid_key_and_fingerprint_units():
    assert all(valid_key(k) for k in ("a", "~" * 255, "with space"))
    assert not any(valid_key(k) for k in ("", "a" * 256, "\n"))
    a = request_fingerprint(method="post", path="/x/", body={"a": 1, "b": [1, 2]})
    assert a == request_fingerprint(method="POST", path="/x/", body={"b": [1, 2], "a": 1})
    assert a != request_fingerprint(method="POST", path="/y/", body={"a": 1, "b": [1, 2]})


def test_schema_documents_the_header_once_per_idempotent_operation(client_for, db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/appointments/"]["post"]
    assert [p["name"] for p in post["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    assert "idempotency_conflict" in post["responses"]["409"]["description"]
    patch = schema["paths"]["/api/appointments/{id}/"]["patch"]
    assert not [p for p in patch.get("parameters", []) if p["in"] == "header"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_duplicates_book_once_and_all_get_the_same_answer():
    doctor, patient = DoctorFactory(), PatientFactory()
    open_all_week(doctor)
    body = {"doctor": doctor.pk, "start": next_slot(days=3).isoformat(), "reason_for_visit": "race"}

    def call():
        client = APIClient()
        client.force_authenticate(patient)
        response = book(client, body, key="race-key")
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    results = run_together([call] * 8)
    assert Counter(code for code, _, _ in results) == {201: 8}
    assert len({json.dumps(body) for _, body, _ in results}) == 1  # same body, same key order
    assert Counter(replayed for _, _, replayed in results) == {None: 1, "true": 7}
    assert Appointment.objects.filter(patient=patient).count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_purge_command_deletes_only_expired_keys(booking):
    from django.core.management import call_command

    client, body = booking
    start = dt.datetime.fromisoformat(body["start"])
    with time_machine.travel(start - dt.timedelta(days=3), tick=False) as clock:
        book(client, body, key="old")
        clock.shift(dt.timedelta(hours=25))
        book(client, body, key="new")
        call_command("purge_idempotency_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_browser_clients_may_send_the_key_and_read_the_replay_header(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    response = client.options(
        URL,
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert "idempotency-key" in response.headers["Access-Control-Allow-Headers"]
