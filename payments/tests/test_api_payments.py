"""Paying for appointments against the fake PayPal server (payments/tests/fake_paypal.py)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory
from notifications.models import Notification
from payments import services
from payments.choices import PaymentEventKind, PaymentStatus
from payments.models import Payment, PaymentEvent, WebhookEvent
from payments.tests.fake_paypal import event, signed_headers
from users.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

BOOK = "/api/appointments/"
WEBHOOK = "/api/payments/paypal/webhook/"


def pay_url(appointment_id: int) -> str:
    return f"/api/appointments/{appointment_id}/payment/"


def capture_url(appointment_id: int) -> str:
    return f"/api/appointments/{appointment_id}/payment/capture/"


def book(client, doctor, start) -> dict:
    response = client.post(BOOK, {"doctor": doctor.pk, "start": start.isoformat()}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def awaiting_with_order(client, paypal, doctor, start) -> tuple[dict, str]:
    """A booking whose PayPal order the patient has approved, not yet captured."""
    appointment = book(client, doctor, start)
    order_id = client.post(pay_url(appointment["id"])).json()["order_id"]
    paypal.approve(order_id)
    return appointment, order_id


def lapsed_hold(client, paypal, doctor, start) -> dict:
    """An approved booking whose hold ran out and was released by the expiry job before the capture came."""
    appointment, _ = awaiting_with_order(client, paypal, doctor, start)
    Payment.objects.update(hold_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.payment_holds_expire() == 1
    return appointment


def capture_too_late(client, appointment: dict, capture_on_commit, **kwargs):
    """Capture `appointment` after its slot was released: 409 slot_unavailable, the refund queued after commit."""
    with capture_on_commit(execute=True):
        response = client.post(capture_url(appointment["id"]), **kwargs)
    assert (response.status_code, response.json()["code"]) == (409, "slot_unavailable")
    return response


def paid_appointment(client, paypal, doctor, start) -> dict:
    appointment, _ = awaiting_with_order(client, paypal, doctor, start)
    response = client.post(capture_url(appointment["id"]))
    assert response.status_code == 200, response.json()
    return response.json()


# --- The hold ---------------------------------------------------------------------------------------


def test_patient_booking_paid_doctor_holds_slot_awaiting_payment(client_for, patient, paid_doctor, slot, settings):
    settings.PAYMENT_HOLD_MINUTES = 15
    with time_machine.travel(slot - dt.timedelta(days=1), tick=False):
        appointment = book(client_for(patient), paid_doctor, slot)
        assert appointment["status"] == Status.PENDING
        assert appointment["payment"] == {
            "status": "awaiting_payment",
            "amount": "40.00",
            "currency": "EUR",
            "hold_expires_at": (timezone.now() + dt.timedelta(minutes=15)).isoformat().replace("+00:00", "Z"),
        }
        # The hold is an active appointment: the slot is busy for everyone else.
        other = client_for(PatientFactory()).post(BOOK, {"doctor": paid_doctor.pk, "start": slot.isoformat()})
        assert (other.status_code, other.json()["code"]) == (409, "slot_unavailable")
        free = client_for(patient).get(
            f"/api/doctors/{paid_doctor.pk}/slots/", {"start": slot.date(), "end": slot.date()}
        )
        assert slot.isoformat() not in [s["start"] for s in free.json()]


def test_free_doctor_booking_payment_not_required(client_for, patient, doctor, slot):
    from appointments.tests.conftest import open_all_week

    open_all_week(doctor)
    appointment = book(client_for(patient), doctor, slot)
    assert appointment["payment"] == {
        "status": "not_required",
        "amount": None,
        "currency": None,
        "hold_expires_at": None,
    }
    assert not Payment.objects.exists()


@pytest.mark.parametrize("actor", ["doctor", "staff"])
def test_doctor_or_staff_booking_paid_doctor_needs_no_payment(client_for, patient, paid_doctor, staff, slot, actor):
    by = paid_doctor if actor == "doctor" else staff
    body = {"patient": patient.pk, "start": slot.isoformat(), "doctor": paid_doctor.pk}
    response = client_for(by).post(BOOK, body, format="json")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["payment"]["status"]) == (Status.CONFIRMED, "not_required")


def test_appointment_list_reads_payments_without_extra_queries(
    client_for, patient, paid_doctor, django_assert_max_num_queries
):
    for i in range(15):
        appointment = AppointmentFactory(
            doctor=paid_doctor, patient=patient, start=timezone.now() + dt.timedelta(days=3, hours=i)
        )
        if i % 2:
            services.payment_hold_create(appointment=appointment)
    with django_assert_max_num_queries(6):
        response = client_for(patient).get(BOOK, {"page_size": 100})
    statuses = {row["payment"]["status"] for row in response.json()["results"]}
    assert statuses == {"awaiting_payment", "not_required"}


# --- Happy path -------------------------------------------------------------------------------------


def test_patient_pays_and_appointment_is_confirmed(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    order = client.post(pay_url(appointment["id"]))
    assert order.status_code == 201
    body = order.json()
    assert body["approve_url"].endswith(body["order_id"])
    created = paypal.state.orders[body["order_id"]]
    assert created["purchase_units"][0]["amount"] == {"currency_code": "EUR", "value": "40.00"}  # from the profile
    paypal.approve(body["order_id"])
    captured = client.post(capture_url(appointment["id"]))
    assert captured.status_code == 200
    assert captured.json()["status"] == Status.CONFIRMED
    assert captured.json()["payment"]["status"] == "paid"
    assert captured.json()["location"] == paid_doctor.doctor_profile.clinic_address
    payment = Payment.objects.get()
    assert payment.paypal_capture_id.startswith("CAPTURE-")
    assert list(payment.events.values_list("kind", flat=True)) == [
        PaymentEventKind.HOLD_CREATED,
        PaymentEventKind.ORDER_CREATED,
        PaymentEventKind.CAPTURE_COMPLETED,
    ]
    # Every state-changing PayPal call carried a request id; the token was fetched once and reused.
    assert all(rid for _, path, rid in paypal.state.calls if path.startswith("/v2/"))
    assert len(paypal.calls_to("/v1/oauth2/token")) == 1
    # Capturing again (the patient's retry) changes nothing.
    again = client.post(capture_url(appointment["id"]))
    assert (again.status_code, again.json()["payment"]["status"]) == (200, "paid")
    assert len(paypal.calls_to("/capture")) == 1


def test_creating_the_order_twice_returns_the_same_order(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    first, second = client.post(pay_url(appointment["id"])), client.post(pay_url(appointment["id"]))
    assert first.json() == second.json()
    assert len(paypal.calls_to("/v2/checkout/orders")) == 1


def test_capture_before_approval_is_409(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    assert client.post(capture_url(appointment["id"])).json()["code"] == "invalid_transition"  # no order yet
    client.post(pay_url(appointment["id"]))
    response = client.post(capture_url(appointment["id"]))
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert Payment.objects.get().status == PaymentStatus.AWAITING_PAYMENT


def test_declined_capture_is_409_and_hold_stays(client_for, patient, paid_doctor, slot, paypal):
    paypal.state.capture_status = "DECLINED"
    client = client_for(patient)
    appointment, _ = awaiting_with_order(client, paypal, paid_doctor, slot)
    response = client.post(capture_url(appointment["id"]))
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    payment = Payment.objects.get()
    assert (payment.status, payment.paypal_capture_status) == (PaymentStatus.AWAITING_PAYMENT, "DECLINED")


# --- Permissions and bad input ------------------------------------------------------------------------


def test_payment_endpoints_permission_matrix(
    api_client, client_for, patient, other_patient, paid_doctor, staff, slot, paypal
):
    appointment = book(client_for(patient), paid_doctor, slot)
    for url in (pay_url(appointment["id"]), capture_url(appointment["id"])):
        assert api_client.post(url).status_code == 401
        assert client_for(paid_doctor).post(url).status_code == 403
        assert client_for(staff).post(url).status_code == 403
        assert client_for(other_patient).post(url).status_code == 404
        assert client_for(patient).post(url.replace(str(appointment["id"]), "999999")).status_code == 404
    assert not paypal.state.calls


def test_paying_for_a_free_appointment_is_409(client_for, patient, slot, paypal):
    appointment = AppointmentFactory(patient=patient, start=slot)
    response = client_for(patient).post(pay_url(appointment.pk))
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_payment_endpoint_honours_idempotency_key(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    first = client.post(pay_url(appointment["id"]), headers={"Idempotency-Key": "pay-1"})
    second = client.post(pay_url(appointment["id"]), headers={"Idempotency-Key": "pay-1"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.post(pay_url(appointment["id"]), headers={"Idempotency-Key": "\u00e9"}).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"consultation_fee": 12.5}, "consultation_fee"),  # a float: refused, amounts are decimal strings
        ({"consultation_fee": "-1.00"}, "consultation_fee"),
        ({"consultation_fee": "abc"}, "consultation_fee"),
        ({"consultation_fee": "1e3"}, "consultation_fee"),
        ({"consultation_fee": "NaN"}, "consultation_fee"),
        ({"consultation_fee": "12.345"}, "consultation_fee"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"currency": 840}, "currency"),
        ({"consultation_fee": "10.50", "currency": "JPY"}, "consultation_fee"),
    ],
)
def test_doctor_profile_rejects_bad_fee_or_currency(client_for, doctor, body, field):
    response = client_for(doctor).patch("/api/doctor-profile/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_doctor_sets_fee_and_currency(client_for, doctor):
    response = client_for(doctor).patch(
        "/api/doctor-profile/", {"consultation_fee": "1500", "currency": "JPY"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["consultation_fee"], response.json()["currency"]) == ("1500.00", "JPY")


# --- PayPal faults ------------------------------------------------------------------------------------


def test_paypal_down_is_503_after_retries_with_one_request_id(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    paypal.fail("/v2/checkout/orders", status=503, times=3)
    response = client.post(pay_url(appointment["id"]))
    assert response.status_code == 503
    assert response.json()["code"] == "upstream_unavailable"
    assert response.headers["Retry-After"]
    attempts = paypal.calls_to("/v2/checkout/orders")
    assert len(attempts) == 3
    assert len({rid for _, _, rid in attempts}) == 1
    # PayPal is back: the retry works and uses the same request id.
    assert client.post(pay_url(appointment["id"])).status_code == 201
    assert {rid for _, _, rid in paypal.calls_to("/v2/checkout/orders")} == {attempts[0][2]}


def test_paypal_token_refused_is_503_never_500(client_for, patient, paid_doctor, slot, paypal, settings):
    settings.PAYPAL_CLIENT_SECRET = "wrong"
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    assert client.post(pay_url(appointment["id"])).status_code == 503


def test_paypal_unreachable_is_503(client_for, patient, paid_doctor, slot, paypal, settings):
    settings.PAYPAL_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    assert client.post(pay_url(appointment["id"])).status_code == 503


def test_create_answered_5xx_after_succeeding_makes_one_order(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    paypal.fail("/v2/checkout/orders", status=500, after_success=True)
    response = client.post(pay_url(appointment["id"]))
    assert response.status_code == 201
    assert len(paypal.state.orders) == 1
    assert response.json()["order_id"] in paypal.state.orders


def test_slow_paypal_times_out_and_the_retry_gets_the_same_order(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    paypal.delay("/v2/checkout/orders", seconds=1.0)  # read timeout is 0.5 s
    response = client.post(pay_url(appointment["id"]))
    assert response.status_code == 201
    assert len(paypal.calls_to("/v2/checkout/orders")) == 2


def test_capture_answered_5xx_after_succeeding_is_paid_once(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment, _ = awaiting_with_order(client, paypal, paid_doctor, slot)
    paypal.fail("/capture", status=502, after_success=True)
    response = client.post(capture_url(appointment["id"]))
    assert (response.status_code, response.json()["payment"]["status"]) == (200, "paid")
    assert len(paypal.state.captures) == 1


def test_expired_token_is_renewed_once(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment = book(client, paid_doctor, slot)
    client.post(pay_url(appointment["id"]))
    paypal.state.tokens.clear()  # PayPal expired our token before we expected
    paypal.approve(next(iter(paypal.state.orders)))
    assert client.post(capture_url(appointment["id"])).status_code == 200
    assert len(paypal.calls_to("/v1/oauth2/token")) == 2


# --- Expiry -------------------------------------------------------------------------------------------


def test_unpaid_hold_expires_frees_the_slot_and_notifies_patient(
    client_for, patient, paid_doctor, slot, paypal, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    booked_at = slot - dt.timedelta(days=1)
    with time_machine.travel(booked_at, tick=False) as clock:
        appointment = book(client, paid_doctor, slot)
        clock.shift(dt.timedelta(minutes=14, seconds=59))
        call_command("expire_payment_holds", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert Appointment.objects.get().status == Status.PENDING
        clock.shift(dt.timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert services.payment_holds_expire() == 1
        assert services.payment_holds_expire() == 0
        fresh = client.get(f"/api/appointments/{appointment['id']}/").json()
        assert (fresh["status"], fresh["cancellation_reason"]) == (Status.CANCELLED, "payment_timeout")
        assert fresh["payment"]["status"] == "expired"
        assert Notification.objects.filter(user=patient).exists()
        history = client.get(f"/api/appointments/{appointment['id']}/history/").json()
        assert (history[-1]["to_status"], history[-1]["by"], history[-1]["reason"]) == (
            "cancelled",
            None,
            "payment_timeout",
        )
        # The slot is free again, and the dead hold cannot be paid.
        other = client_for(PatientFactory()).post(BOOK, {"doctor": paid_doctor.pk, "start": slot.isoformat()})
        assert other.status_code == 201
        response = client.post(pay_url(appointment["id"]))
        assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_expiry_task_runs_the_service(paid_doctor, patient, slot):
    from payments.tasks import expire_payment_holds

    appointment = AppointmentFactory(doctor=paid_doctor, patient=patient, start=slot)
    payment = services.payment_hold_create(appointment=appointment)
    Payment.objects.filter(pk=payment.pk).update(hold_expires_at=timezone.now() - dt.timedelta(seconds=1))
    expire_payment_holds.call()
    assert Payment.objects.get().status == PaymentStatus.EXPIRED


def test_capture_just_after_hold_time_before_the_job_still_wins(client_for, patient, paid_doctor, slot, paypal):
    client = client_for(patient)
    appointment, _ = awaiting_with_order(client, paypal, paid_doctor, slot)
    Payment.objects.update(hold_expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(capture_url(appointment["id"]))
    assert (response.status_code, response.json()["status"]) == (200, Status.CONFIRMED)


def test_capture_after_slot_released_and_taken_refunds_and_409(
    client_for, patient, paid_doctor, slot, paypal, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    appointment = lapsed_hold(client, paypal, paid_doctor, slot)
    assert (
        client_for(PatientFactory()).post(BOOK, {"doctor": paid_doctor.pk, "start": slot.isoformat()}).status_code
        == 201
    )
    capture_too_late(client, appointment, django_capture_on_commit_callbacks)
    payment = Payment.objects.get(appointment_id=appointment["id"])
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.events.filter(kind=PaymentEventKind.LATE_CAPTURE_REFUNDED).exists()
    assert len(paypal.state.refunds) == 1
    assert Appointment.objects.get(pk=appointment["id"]).status == Status.CANCELLED


def test_late_capture_whose_refund_fails_is_recorded_for_staff(
    client_for, patient, paid_doctor, slot, paypal, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    appointment = lapsed_hold(client, paypal, paid_doctor, slot)
    paypal.fail("/refund", status=503, times=3)
    capture_too_late(client, appointment, django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.EXPIRED
    assert payment.events.filter(kind=PaymentEventKind.REFUND_FAILED).exists()
    services.payment_refund(payment=payment, by=None, allow_unpaid=True)  # staff retry later
    assert Payment.objects.get().status == PaymentStatus.REFUNDED


# --- Refunds on cancellation ----------------------------------------------------------------------------


def _set_notice(doctor, hours: int) -> None:
    doctor.doctor_profile.cancellation_notice_hours = hours
    doctor.doctor_profile.save()


def test_patient_cancelling_with_notice_is_refunded(
    client_for, patient, paid_doctor, slot, paypal, django_capture_on_commit_callbacks
):
    _set_notice(paid_doctor, 24)
    client = client_for(patient)
    appointment = paid_appointment(client, paypal, paid_doctor, slot)  # 48 h ahead
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/appointments/{appointment['id']}/cancel/", {}).status_code == 200
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert client.get(f"/api/appointments/{appointment['id']}/").json()["payment"]["status"] == "refunded"


def test_doctor_cancelling_inside_notice_refunds(
    client_for, patient, paid_doctor, slot, paypal, django_capture_on_commit_callbacks
):
    _set_notice(paid_doctor, 72)
    appointment = paid_appointment(client_for(patient), paypal, paid_doctor, slot)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(paid_doctor).post(f"/api/appointments/{appointment['id']}/cancel/", {})
    assert response.status_code == 200
    assert Payment.objects.get().status == PaymentStatus.REFUNDED


def test_patient_inside_notice_cannot_cancel_and_is_not_refunded(client_for, patient, paid_doctor, slot, paypal):
    _set_notice(paid_doctor, 72)
    client = client_for(patient)
    appointment = paid_appointment(client, paypal, paid_doctor, slot)
    response = client.post(f"/api/appointments/{appointment['id']}/cancel/", {})
    assert (response.status_code, response.json()["code"]) == (409, "notice_required")
    assert not paypal.state.refunds


def test_refund_policy_without_notice_gives_nothing(client_for, patient, paid_doctor, slot, paypal):
    appointment = paid_appointment(client_for(patient), paypal, paid_doctor, slot)
    assert (
        services.refund_on_cancellation(appointment_id=appointment["id"], actor_id=patient.pk, notice_given=False)
        is None
    )
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert not paypal.state.refunds


def test_staff_refunds_from_the_admin(client, staff, patient, paid_doctor, slot, paypal, client_for):
    appointment = paid_appointment(client_for(patient), paypal, paid_doctor, slot)
    payment = Payment.objects.get(appointment_id=appointment["id"])
    client.force_login(staff)
    assert client.get(f"/admin/payments/payment/{payment.pk}/change/").status_code == 200
    response = client.post(
        "/admin/payments/payment/", {"action": "refund_selected", "_selected_action": [payment.pk]}, follow=True
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.events.last().by == staff
    assert len(paypal.state.refunds) == 1


# --- Webhooks ------------------------------------------------------------------------------------------


def post_webhook(api_client, body: dict, headers: dict | None = None):
    return api_client.post(WEBHOOK, body, format="json", headers=headers if headers is not None else signed_headers())


def test_webhook_order_approved_captures_for_a_patient_who_never_came_back(
    api_client, client_for, patient, paid_doctor, slot, paypal, django_capture_on_commit_callbacks
):
    appointment, order_id = awaiting_with_order(client_for(patient), paypal, paid_doctor, slot)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(api_client, event("CHECKOUT.ORDER.APPROVED", {"id": order_id}))
    assert (response.status_code, response.json()) == (200, {"status": "applied"})
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert Appointment.objects.get().status == Status.CONFIRMED


def test_webhook_capture_completed_applies_once_and_replay_is_a_no_op(
    api_client, client_for, patient, paid_doctor, slot, paypal
):
    appointment, order_id = awaiting_with_order(client_for(patient), paypal, paid_doctor, slot)
    resource = {"id": "CAPTURE-X", "status": "COMPLETED", "supplementary_data": {"related_ids": {"order_id": order_id}}}
    body = event("PAYMENT.CAPTURE.COMPLETED", resource)
    assert post_webhook(api_client, body).json() == {"status": "applied"}
    events_after_first = PaymentEvent.objects.count()
    replay = post_webhook(api_client, body)
    assert (replay.status_code, replay.json()) == (200, {"status": "duplicate"})
    assert PaymentEvent.objects.count() == events_after_first
    assert WebhookEvent.objects.count() == 1
    payment = Payment.objects.get()
    assert (payment.status, payment.paypal_capture_id) == (PaymentStatus.PAID, "CAPTURE-X")


@pytest.mark.parametrize(
    ("event_type", "resource", "status", "kind"),
    [
        ("PAYMENT.CAPTURE.PENDING", {"id": "C-P"}, PaymentStatus.AWAITING_PAYMENT, PaymentEventKind.CAPTURE_PENDING),
        ("PAYMENT.CAPTURE.DENIED", {"id": "C-D"}, PaymentStatus.AWAITING_PAYMENT, PaymentEventKind.CAPTURE_DENIED),
    ],
)
def test_webhook_capture_pending_and_denied_are_recorded(
    api_client, client_for, patient, paid_doctor, slot, paypal, event_type, resource, status, kind
):
    _, order_id = awaiting_with_order(client_for(patient), paypal, paid_doctor, slot)
    resource = {**resource, "supplementary_data": {"related_ids": {"order_id": order_id}}}
    assert post_webhook(api_client, event(event_type, resource)).status_code == 200
    payment = Payment.objects.get()
    assert payment.status == status
    assert payment.events.filter(kind=kind).exists()


def test_pending_capture_keeps_the_hold_past_its_time(api_client, client_for, patient, paid_doctor, slot, paypal):
    _, order_id = awaiting_with_order(client_for(patient), paypal, paid_doctor, slot)
    resource = {"id": "C-P", "supplementary_data": {"related_ids": {"order_id": order_id}}}
    post_webhook(api_client, event("PAYMENT.CAPTURE.PENDING", resource))
    Payment.objects.update(hold_expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.payment_holds_expire() == 0


@pytest.mark.parametrize("event_type", ["PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"])
def test_webhook_refunded_or_reversed_marks_refunded(
    api_client, client_for, patient, paid_doctor, slot, paypal, event_type
):
    paid_appointment(client_for(patient), paypal, paid_doctor, slot)
    capture_id = Payment.objects.get().paypal_capture_id
    if event_type.endswith("REFUNDED"):
        resource = {"id": "REFUND-1", "links": [{"rel": "up", "href": f"https://x/v2/payments/captures/{capture_id}"}]}
    else:
        resource = {"id": capture_id}
    assert post_webhook(api_client, event(event_type, resource)).status_code == 200
    assert Payment.objects.get().status == PaymentStatus.REFUNDED


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (event("PAYMENT.CAPTURE.COMPLETED", {"id": "C"}), signed_headers("forged")),
        (event("PAYMENT.CAPTURE.COMPLETED", {"id": "C"}), {}),
        (event("BILLING.SUBSCRIPTION.CREATED", {"id": "C"}), signed_headers()),
        ({"id": "x", "event_type": "PAYMENT.CAPTURE.COMPLETED"}, signed_headers()),
        ({"id": 5, "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}}, signed_headers()),
        ([1, 2], signed_headers()),
    ],
)
def test_webhook_forged_unknown_or_malformed_is_400(api_client, paypal, body, headers):
    response = post_webhook(api_client, body, headers)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_webhook_not_json_is_400(api_client, paypal):
    response = api_client.post(WEBHOOK, b"{not json", content_type="application/json", headers=signed_headers())
    assert response.status_code == 400


def test_webhook_when_paypal_cannot_verify_is_503(api_client, paypal):
    paypal.fail("verify-webhook-signature", status=500, times=3)
    response = post_webhook(api_client, event("PAYMENT.CAPTURE.COMPLETED", {"id": "C"}))
    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()


def test_webhook_for_unknown_capture_is_accepted_and_ignored(api_client, paypal):
    assert post_webhook(api_client, event("PAYMENT.CAPTURE.COMPLETED", {"id": "NOPE"})).json() == {"status": "applied"}


@pytest.mark.parametrize(
    ("event_type", "resource"),
    [
        ("PAYMENT.CAPTURE.REFUNDED", {"id": "REFUND-2", "links": []}),
        ("PAYMENT.CAPTURE.COMPLETED", {}),
        ("CHECKOUT.ORDER.APPROVED", {}),
    ],
)
def test_webhook_naming_no_capture_or_order_touches_no_payment(
    api_client, client_for, patient, paid_doctor, slot, paypal, event_type, resource
):
    awaiting_with_order(client_for(patient), paypal, paid_doctor, slot)
    before = Payment.objects.values_list("status", "paypal_capture_id").get()
    assert post_webhook(api_client, event(event_type, resource)).status_code == 200
    assert Payment.objects.values_list("status", "paypal_capture_id").get() == before


def test_amounts_are_decimal_strings(client_for, patient, paid_doctor, slot, paypal):
    appointment = book(client_for(patient), paid_doctor, slot)
    assert isinstance(appointment["payment"]["amount"], str)
    assert Payment.objects.get().amount == Decimal("40.00")


def test_late_capture_with_idempotency_key_keeps_the_refund_and_replays_the_409(
    client_for, patient, paid_doctor, slot, paypal, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    appointment = lapsed_hold(client, paypal, paid_doctor, slot)
    first = capture_too_late(
        client, appointment, django_capture_on_commit_callbacks, headers={"Idempotency-Key": "cap-1"}
    )
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REFUNDED  # committed with the idempotent request, not rolled back
    replay = client.post(capture_url(appointment["id"]), headers={"Idempotency-Key": "cap-1"})
    assert (replay.status_code, replay.json()) == (409, first.json())
    assert len(paypal.state.refunds) == 1


def test_declined_capture_with_idempotency_key_is_recorded(client_for, patient, paid_doctor, slot, paypal):
    paypal.state.capture_status = "DECLINED"
    client = client_for(patient)
    appointment, _ = awaiting_with_order(client, paypal, paid_doctor, slot)
    response = client.post(capture_url(appointment["id"]), headers={"Idempotency-Key": "cap-2"})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert Payment.objects.get().events.filter(kind=PaymentEventKind.CAPTURE_DENIED).exists()
