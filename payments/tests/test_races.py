"""The capture racing the hold's expiry, on PostgreSQL with real threads: never a paid appointment without its
slot, never a slot held by an unpaid, expired hold, whoever wins."""

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.factories import next_slot
from cybermed.testing import run_together
from payments import services
from payments.choices import PaymentStatus
from payments.models import Payment
from users.models import User
from users.tests.factories import PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 10


def book_with_order(client: APIClient, doctor: User, start: dt.datetime) -> tuple[int, str]:
    """The client's patient books `start` with the paid `doctor` and opens its PayPal order.

    Returns (appointment id, order id)."""
    booked = client.post("/api/appointments/", {"doctor": doctor.pk, "start": start.isoformat()}, format="json")
    appointment_id = booked.json()["id"]
    return appointment_id, client.post(f"/api/appointments/{appointment_id}/payment/").json()["order_id"]


def test_capture_racing_expiry_and_a_new_booking_never_leaves_money_without_a_slot(paypal, paid_doctor, client_for):
    outcomes: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        patient, rival = PatientFactory(), PatientFactory()
        start = next_slot(days=2, hour=8) + dt.timedelta(minutes=30 * round_)
        appointment_id, order_id = book_with_order(client_for(patient), paid_doctor, start)
        paypal.approve(order_id)
        Payment.objects.filter(appointment_id=appointment_id).update(
            hold_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )

        def capture(patient=patient, appointment_id=appointment_id) -> int:
            return client_for(patient).post(f"/api/appointments/{appointment_id}/payment/capture/").status_code

        def expire() -> int:
            return services.payment_holds_expire()

        def rival_books(rival=rival, start=start) -> int:
            c = client_for(rival)
            return c.post("/api/appointments/", {"doctor": paid_doctor.pk, "start": start.isoformat()}).status_code

        captured, expired, rival_code = run_together([capture, expire, rival_books])
        appointment = Appointment.objects.get(pk=appointment_id)
        payment = Payment.objects.get(appointment_id=appointment_id)
        if captured == 200:
            # The capture won: paid and confirmed, the job found nothing to expire, the rival lost the slot.
            assert (appointment.status, payment.status, expired) == (Status.CONFIRMED, PaymentStatus.PAID, 0)
            assert rival_code == 409
            outcomes["capture won"] += 1
        else:
            # The job won: released, and the late capture was refunded at once.
            assert captured == 409
            assert (appointment.status, payment.status, expired) == (Status.CANCELLED, PaymentStatus.REFUNDED, 1)
            outcomes[f"expiry won, rival {rival_code}"] += 1
        # Whoever won, at most one active appointment holds the slot, and only a paid or a fresh one.
        active = Appointment.objects.filter(doctor=paid_doctor, start=start, status__in=["pending", "confirmed"])
        assert active.count() <= 1
    print(f"\ncapture/expiry race over {ROUNDS} rounds: {dict(outcomes)}")
    assert sum(outcomes.values()) == ROUNDS


def test_eight_concurrent_captures_with_one_key_capture_once(paypal, paid_doctor, client_for):
    patient = PatientFactory()
    appointment_id, order_id = book_with_order(client_for(patient), paid_doctor, next_slot(days=2, hour=9))
    paypal.approve(order_id)

    def capture():
        r = client_for(patient).post(
            f"/api/appointments/{appointment_id}/payment/capture/", headers={"Idempotency-Key": "cap"}
        )
        return r.status_code, r.json()["payment"]["status"]

    results = run_together([capture] * 8)
    assert Counter(results) == {(200, "paid"): 8}
    assert len(paypal.calls_to("/capture")) == 1
    assert len(paypal.state.captures) == 1


def test_capture_endpoint_racing_the_completed_webhook_pays_once(paypal, paid_doctor, client_for):
    from payments.choices import PaymentEventKind
    from payments.tests.fake_paypal import event, signed_headers

    patient = PatientFactory()
    appointment_id, order_id = book_with_order(client_for(patient), paid_doctor, next_slot(days=2, hour=11))
    paypal.approve(order_id)

    def capture() -> int:
        return client_for(patient).post(f"/api/appointments/{appointment_id}/payment/capture/").status_code

    def webhook(n: int):
        def call() -> int:
            resource = {"id": "CAPTURE-HOOK", "supplementary_data": {"related_ids": {"order_id": order_id}}}
            body = event("PAYMENT.CAPTURE.COMPLETED", resource, event_id="WH-SAME")
            return (
                APIClient()
                .post("/api/payments/paypal/webhook/", body, format="json", headers=signed_headers())
                .status_code
            )

        return call

    codes = run_together([capture, webhook(1), webhook(2), webhook(3)])
    assert codes == [200, 200, 200, 200]
    payment = Payment.objects.get(appointment_id=appointment_id)
    assert payment.status == PaymentStatus.PAID
    assert payment.events.filter(kind=PaymentEventKind.CAPTURE_COMPLETED).count() == 1
    assert Appointment.objects.get(pk=appointment_id).status == Status.CONFIRMED
