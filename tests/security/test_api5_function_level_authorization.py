"""API5:2023 Broken function level authorization: each role reaches only its own functions.

Wrong role → 403 (authenticated but not allowed); no token → 401, on every operation in the schema except the
public ones the contract names.
"""

import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory, AvailabilityRuleFactory, TimeOffFactory, next_slot
from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from users.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db

PUBLIC_OPERATIONS = {
    ("get", "/api/health/"),
    ("post", "/api/auth/register/"),
    ("post", "/api/auth/login/"),
    ("post", "/api/auth/login/refresh/"),
    ("post", "/api/auth/password/reset/"),
    ("post", "/api/auth/password/reset/confirm/"),
    ("post", "/api/auth/activate/"),
    ("post", "/api/auth/activate/resend/"),
    ("post", "/api/payments/paypal/webhook/"),  # PayPal calls it: authenticated by its verified signature
    ("post", "/api/auth/social/{provider}/"),
    # FHIR clients read the CapabilityStatement before they authenticate.
    ("get", "/fhir/metadata"),
    # Twilio's delivery reports: authenticated by their signature (a wrong one is a 403).
    ("post", "/api/sms/twilio/status/"),
}


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted((m, path) for path, item in schema["paths"].items() for m in item if m in methods)


@pytest.mark.parametrize(("method", "path"), schema_operations())
def test_anonymous_call_to_protected_operation_gets_401(api_client, method, path):
    url = re.sub(r"\{[^}]+\}", "1", path)
    r = getattr(api_client, method)(url, {}, format="json") if method != "get" else api_client.get(url)
    if (method, path) in PUBLIC_OPERATIONS:
        assert r.status_code != 401
    else:
        assert r.status_code == 401, (method, path, r.status_code)


# --- patients calling doctor-only functions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/availability/", None),
        ("post", "/api/availability/", {"weekday": 0, "start_time": "09:00", "end_time": "10:00"}),
        ("get", "/api/time-off/", None),
        ("post", "/api/time-off/", {"start": "2030-01-01T09:00:00Z", "end": "2030-01-01T10:00:00Z"}),
        ("get", "/api/doctor-profile/", None),
        ("post", "/api/doctor-profile/", {"slot_minutes": 30}),
        ("patch", "/api/doctor-profile/", {"slot_minutes": 30}),
        ("get", "/api/patients/", None),
        ("post", "/api/consultations/", {"appointment": 1}),
    ],
)
def test_patient_calling_doctor_only_function_gets_403(bearer, patient, method, path, body):
    client = bearer(patient)
    r = getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
    assert r.status_code == 403


@pytest.mark.parametrize("action", ["confirm", "complete", "no-show", "refer"])
def test_patient_calling_doctor_only_action_on_own_appointment_gets_403(bearer, patient, doctor, action):
    start = next_slot(days=-1) if action in ("complete", "no-show") else next_slot(days=2)
    status = Status.CONFIRMED if action in ("complete", "no-show", "refer") else Status.PENDING
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=start, status=status)
    body = {"doctor": DoctorFactory().pk} if action == "refer" else {}
    r = bearer(patient).post(f"/api/appointments/{appointment.pk}/{action}/", body, format="json")
    assert r.status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == status
    assert Appointment.objects.count() == 1


def test_patient_amending_own_consultation_gets_403(bearer, patient):
    consultation = ConsultationFactory(appointment__patient=patient)
    for method in ("patch", "put"):
        r = getattr(bearer(patient), method)(
            f"/api/consultations/{consultation.pk}/", {"treatment_plan": "self-prescribed"}, format="json"
        )
        assert r.status_code == 403
    assert Consultation.objects.get(pk=consultation.pk).treatment_plan == "Rest and fluids."


def test_patient_deleting_own_consultation_not_allowed(bearer, patient):
    consultation = ConsultationFactory(appointment__patient=patient)
    assert bearer(patient).delete(f"/api/consultations/{consultation.pk}/").status_code in (403, 405)
    assert Consultation.objects.filter(pk=consultation.pk).exists()


def test_doctor_deleting_own_consultation_gets_405(bearer, doctor):
    consultation = ConsultationFactory(appointment__doctor=doctor)
    assert bearer(doctor).delete(f"/api/consultations/{consultation.pk}/").status_code == 405
    assert Consultation.objects.filter(pk=consultation.pk).exists()


def test_patient_managing_doctor_schedule_by_id_gets_403_or_404(bearer, patient, doctor):
    rule, time_off = AvailabilityRuleFactory(doctor=doctor), TimeOffFactory(doctor=doctor)
    client = bearer(patient)
    assert client.delete(f"/api/availability/{rule.pk}/").status_code in (403, 404)
    assert client.delete(f"/api/time-off/{time_off.pk}/").status_code in (403, 404)
    assert rule.__class__.objects.filter(pk=rule.pk).exists()
    assert time_off.__class__.objects.filter(pk=time_off.pk).exists()


# --- doctors calling patient-only functions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/patient-profile/", None),
        ("patch", "/api/patient-profile/", {"address": "x"}),
        ("get", "/api/waitlist/", None),
        ("post", "/api/waitlist/", {"doctor": 1, "start_date": "2030-01-01", "end_date": "2030-01-02"}),
    ],
)
def test_doctor_calling_patient_only_function_gets_403(bearer, doctor, method, path, body):
    client = bearer(doctor)
    r = getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
    assert r.status_code == 403


# --- staff-only functions ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_non_staff_verifying_doctor_gets_403(request, bearer, role):
    unverified = DoctorFactory(doctor_profile__is_verified=False)
    r = bearer(request.getfixturevalue(role)).post(f"/api/doctors/{unverified.pk}/verify/")
    assert r.status_code == 403
    unverified.doctor_profile.refresh_from_db()
    assert unverified.doctor_profile.is_verified is False


def test_doctor_cannot_verify_self(bearer):
    unverified = DoctorFactory(doctor_profile__is_verified=False)
    assert bearer(unverified).post(f"/api/doctors/{unverified.pk}/verify/").status_code == 403
    unverified.doctor_profile.refresh_from_db()
    assert unverified.doctor_profile.is_verified is False


def test_staff_verifying_doctor_succeeds(bearer, staff):
    unverified = DoctorFactory(doctor_profile__is_verified=False)
    assert bearer(staff).post(f"/api/doctors/{unverified.pk}/verify/").status_code == 200
    unverified.doctor_profile.refresh_from_db()
    assert unverified.doctor_profile.is_verified is True


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_non_staff_opening_admin_site_refused(request, role):
    client = Client()
    client.force_login(request.getfixturevalue(role))
    r = client.get("/admin/")
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]
    assert client.get("/admin/users/user/").status_code == 302


def test_patient_booking_for_another_patient_not_possible(bearer, patient, other_patient, doctor):
    for weekday in range(7):
        AvailabilityRuleFactory(doctor=doctor, weekday=weekday)
    r = bearer(patient).post(
        "/api/appointments/",
        {"doctor": doctor.pk, "patient": other_patient.pk, "start": next_slot(days=2).isoformat()},
        format="json",
    )
    assert r.status_code in (201, 400, 403)
    assert not Appointment.objects.filter(patient=other_patient).exists()


def test_staff_without_role_cannot_book(bearer, staff, doctor):
    for weekday in range(7):
        AvailabilityRuleFactory(doctor=doctor, weekday=weekday)
    r = bearer(staff).post(
        "/api/appointments/", {"doctor": doctor.pk, "start": next_slot(days=2).isoformat()}, format="json"
    )
    assert r.status_code in (400, 403)
    assert not Appointment.objects.exists()
