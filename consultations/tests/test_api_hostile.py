"""Hostile input on the consultation endpoints: a clear 400, never a 500 (both databases)."""

import json

import pytest

from consultations.models import Consultation

pytestmark = pytest.mark.django_db

PRESCRIPTION = {"drug": "Amoxicillin", "dose": "500 mg", "frequency": "8-hourly", "duration": "7 days"}


def send(client, method: str, url: str, body: object):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "make_value",
    [lambda pk: pk + 0.5, lambda pk: True, lambda pk: 99999999999999999999, lambda pk: -pk, lambda pk: f"{pk}.0"],
)
def test_doctor_create_with_malformed_appointment_id_returns_400(client_for, doctor, appointment, make_value):
    r = send(client_for(doctor), "post", "/api/consultations/", {"appointment": make_value(appointment.pk)})
    assert r.status_code == 400, r.content
    assert "appointment" in r.json()
    assert not Consultation.objects.exists()


def test_doctor_create_with_appointment_id_as_digit_string_returns_201(client_for, doctor, appointment):
    r = send(client_for(doctor), "post", "/api/consultations/", {"appointment": str(appointment.pk)})
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("query", ["appointment=99999999999999999999", "patient=99999999999999999999", "patient=1.5"])
def test_doctor_list_with_impossible_id_filter_returns_400(client_for, doctor, consultation, query):
    r = client_for(doctor).get(f"/api/consultations/?{query}")
    assert r.status_code == 400, r.content
    assert set(r.json()) == {query.split("=")[0]}


def test_doctor_create_prescription_with_unencodable_unknown_key_returns_400(client_for, doctor, appointment):
    body = '{"appointment": %d, "prescriptions": [{"drug": "a", "dose": "b", "frequency": "c", "duration": "d", "\\ud800": "x"}]}'  # noqa: E501
    r = client_for(doctor).post("/api/consultations/", body % appointment.pk, content_type="application/json")
    assert r.status_code == 400, r.content
    assert "prescriptions" in r.json()


@pytest.mark.parametrize("value", ["a\u0000b", "\ud800", 12, None])
def test_doctor_patch_text_with_nul_surrogate_or_non_string_returns_400(client_for, doctor, consultation, value):
    client = client_for(doctor)
    for field in ("medical_history", "treatment_plan"):
        assert send(client, "patch", f"/api/consultations/{consultation.pk}/", {field: value}).status_code == 400
    bad_drug = [{**PRESCRIPTION, "drug": value}]
    assert (
        send(client, "patch", f"/api/consultations/{consultation.pk}/", {"prescriptions": bad_drug}).status_code == 400
    )
    consultation.refresh_from_db()
    assert consultation.medical_history == "No known allergies."


@pytest.mark.parametrize("value", ["2026-02-30", "10000-01-01", "0000-01-01", 20300101, True])
def test_doctor_patch_bad_review_date_returns_400(client_for, doctor, consultation, value):
    r = send(client_for(doctor), "patch", f"/api/consultations/{consultation.pk}/", {"review_date": value})
    assert r.status_code == 400, r.content
    assert "review_date" in r.json()
