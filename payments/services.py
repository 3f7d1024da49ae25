"""Every write to payments. PayPal is called outside database transactions and row locks where it can be, and
the outcome is applied under the same locks the booking services take (doctor, patient, appointment, then
payment), so a capture and the hold's expiry can never both win.

Invariants: a paid payment's appointment holds its slot (confirmed), or the money goes back at once; an
unpaid hold is released when it expires (the periodic job); every change writes a PaymentEvent.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import services as appointment_services
from appointments.choices import Status
from appointments.models import Appointment
from cybermed.exceptions import DomainConflict, InvalidTransition, UpstreamUnavailable
from payments import paypal
from payments.choices import PaymentEventKind as Kind
from payments.choices import PaymentStatus
from payments.models import Payment, PaymentEvent, WebhookEvent
from users.choices import Role
from users.models import DoctorProfile, User

logger = logging.getLogger("cybermed.payments")

PAYMENT_TIMEOUT = "payment_timeout"


def _record(
    payment: Payment,
    kind: str,
    *,
    previous: str = "",
    paypal_id: str = "",
    by: User | None = None,
    **detail: Any,
) -> None:
    PaymentEvent.objects.create(
        payment=payment,
        kind=kind,
        from_status=previous,
        to_status=payment.status,
        paypal_id=paypal_id,
        by=by,
        detail={k: str(v) for k, v in detail.items()},
    )


def _set_status(payment: Payment, status: str, kind: str, *, previous: str | None = None, **kwargs: Any) -> None:
    """Move the payment to `status` and record it (`previous`: the status before, if changed earlier)."""
    before = payment.status if previous is None else previous
    payment.status = status
    payment.save()
    _record(payment, kind, previous=before, **kwargs)


def _unavailable(error: paypal.PayPalUnavailable) -> UpstreamUnavailable:
    logger.warning("paypal unavailable: %s", error)
    return UpstreamUnavailable("PayPal is not answering. Try again in a moment; you will not be charged twice.")


# --- The hold -----------------------------------------------------------------------------------


def payment_hold_create(*, appointment: Appointment) -> Payment | None:
    """Make a patient's new booking of a doctor with a fee wait for payment (inside the booking's transaction)."""
    profile = DoctorProfile.objects.filter(pk=appointment.doctor_id).only("consultation_fee", "currency").first()
    if profile is None or profile.consultation_fee <= 0:
        return None
    payment = Payment.objects.create(
        appointment=appointment,
        amount=profile.consultation_fee,
        currency=profile.currency,
        hold_expires_at=timezone.now() + dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES),
    )
    _record(payment, Kind.HOLD_CREATED, by=appointment.created_by)
    return payment


def payment_holds_expire(*, now: dt.datetime | None = None) -> int:
    """Cancel every pending appointment whose unpaid hold has expired (reason `payment_timeout`); return how many.

    A capture PayPal reported as PENDING (money in flight) keeps its hold until the appointment starts.
    """
    now = now or timezone.now()
    due = Payment.objects.filter(
        status=PaymentStatus.AWAITING_PAYMENT,
        hold_expires_at__lte=now,
        appointment__status=Status.PENDING,
    ).values_list("pk", flat=True)
    expired = 0
    for payment_id in list(due):
        try:
            expired += _expire_one(payment_id=payment_id, now=now)
        except DomainConflict as conflict:  # changed meanwhile (confirmed, cancelled): nothing to release
            logger.info("hold of payment %s not expired: %s", payment_id, conflict)
    return expired


@transaction.atomic
def _expire_one(*, payment_id: int, now: dt.datetime) -> int:
    appointment_id = Payment.objects.values_list("appointment_id", flat=True).get(pk=payment_id)
    appointment = appointment_services.appointment_lock(appointment_id=appointment_id)
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment_id)
    if payment.status != PaymentStatus.AWAITING_PAYMENT or payment.hold_expires_at > now:
        return 0
    if appointment.status != Status.PENDING:
        return 0
    if payment.paypal_capture_status == "PENDING" and appointment.start > now:
        return 0
    appointment_services.appointment_cancel(appointment=appointment, by=None, reason=PAYMENT_TIMEOUT)
    _set_status(payment, PaymentStatus.EXPIRED, Kind.EXPIRED)
    return 1


# --- Orders and captures --------------------------------------------------------------------------


def _payable(payment: Payment, now: dt.datetime) -> None:
    if payment.status == PaymentStatus.PAID:
        raise InvalidTransition("This appointment is already paid.")
    if payment.status != PaymentStatus.AWAITING_PAYMENT or payment.appointment.status not in (
        Status.PENDING,
        Status.CONFIRMED,
    ):
        raise InvalidTransition("This appointment is no longer awaiting payment.")
    if payment.hold_expires_at <= now and payment.appointment.status == Status.PENDING:
        raise InvalidTransition("The time to pay for this booking has run out; book again.")


def payment_order_create(*, payment: Payment) -> Payment:
    """Create the PayPal order for `payment` (once: a second call returns the same order)."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(no_key=True, of=("self",))
            .select_related("appointment")
            .get(pk=payment.pk)
        )
        _payable(payment, timezone.now())
        if payment.paypal_order_id:
            return payment
        try:
            # One order per payment: the request id makes PayPal answer a retried create with the same order.
            order = paypal.create_order(
                amount=payment.amount,
                currency=payment.currency,
                reference=f"appointment-{payment.appointment_id}",
                request_id=f"cybermed-order-{payment.pk}",
            )
        except paypal.PayPalUnavailable as error:
            raise _unavailable(error) from error
        except paypal.PayPalError as error:
            logger.error("paypal refused an order for payment %s: %s", payment.pk, error)
            raise UpstreamUnavailable("PayPal refused to create the order. Try again later.") from error
        payment.paypal_order_id, payment.approve_url = order.id, order.approve_url
        payment.save(update_fields=["paypal_order_id", "approve_url", "updated_at"])
        _record(payment, Kind.ORDER_CREATED, paypal_id=order.id, by=payment.appointment.patient)
        return payment


@dataclass(frozen=True)
class Settlement:
    outcome: str  # "paid", "already_paid", "pending", "denied", "refund"
    payment: Payment


def payment_capture(*, payment: Payment, by: User | None) -> Settlement:
    """Capture the approved order and confirm the booking; or refund at once if the slot was released meanwhile.

    Returns the settlement rather than raising for the outcomes that wrote something (a refund, a declined
    capture), so that a caller's surrounding transaction (an idempotent request) keeps those records:
    `paid`/`already_paid`, `pending` (PayPal holds the money; the webhook settles it), `denied`, or `refund`
    (the slot had been released; the capture is refunded by a task after commit, or a REFUND_FAILED event is
    left for staff).
    Raises InvalidTransition when there is nothing to capture (no order, not approved yet) and
    UpstreamUnavailable when PayPal does not answer.
    """
    payment = Payment.objects.select_related("appointment").get(pk=payment.pk)
    if payment.status == PaymentStatus.PAID:
        return Settlement("already_paid", payment)
    if not payment.paypal_order_id:
        raise InvalidTransition("There is no PayPal order to capture yet: create the payment first.")
    try:
        capture = paypal.capture_order(order_id=payment.paypal_order_id, request_id=f"cybermed-capture-{payment.pk}")
    except paypal.PayPalUnavailable as error:
        raise _unavailable(error) from error
    except paypal.PayPalError as error:
        if error.name in ("ORDER_NOT_APPROVED", "PAYER_ACTION_REQUIRED"):
            raise InvalidTransition("The payment has not been approved in PayPal yet.") from error
        logger.error("paypal refused the capture of payment %s: %s", payment.pk, error)
        raise InvalidTransition("PayPal refused the capture of this order.") from error
    settlement = _settle(payment_id=payment.pk, capture=capture, by=by)
    if settlement.outcome == "refund":
        from payments import tasks  # the tasks module imports these services

        # After commit, as a task: the answer (409) does not depend on it, and a PayPal call (with its retries)
        # must not run inside a caller's transaction that still holds the booking locks.
        refund = settlement.payment.pk
        transaction.on_commit(lambda: tasks.refund_released.enqueue(refund), robust=True)
    return settlement


@transaction.atomic
def _settle(*, payment_id: int, capture: paypal.Capture, by: User | None) -> Settlement:
    """Apply a capture under the booking locks: confirm the appointment it pays for, or ask for a refund."""
    appointment_id = Payment.objects.values_list("appointment_id", flat=True).get(pk=payment_id)
    appointment = appointment_services.appointment_lock(appointment_id=appointment_id)
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment_id)
    if payment.status == PaymentStatus.PAID:
        return Settlement("already_paid", payment)
    payment.paypal_capture_id, payment.paypal_capture_status = capture.id, capture.status
    if capture.status == "PENDING":
        payment.save()
        _record(payment, Kind.CAPTURE_PENDING, paypal_id=capture.id, by=by)
        return Settlement("pending", payment)
    if capture.status != "COMPLETED":
        payment.save()
        _record(payment, Kind.CAPTURE_DENIED, paypal_id=capture.id, by=by, status=capture.status)
        return Settlement("denied", payment)
    if payment.status == PaymentStatus.REFUNDED:
        return Settlement("already_paid", payment)
    previous = payment.status
    if appointment.status == Status.PENDING and previous == PaymentStatus.AWAITING_PAYMENT:
        try:
            # Still pending, so still holding its slot (even a moment past the hold): it is the patient's.
            appointment_services.appointment_confirm(appointment=appointment, by=None)
        except DomainConflict as conflict:
            logger.info("paid appointment %s cannot be confirmed: %s", appointment.pk, conflict)
            payment.save()
            return Settlement("refund", payment)
    elif not (appointment.status == Status.CONFIRMED and previous == PaymentStatus.AWAITING_PAYMENT):
        payment.save()
        return Settlement("refund", payment)
    payment.paid_at = timezone.now()
    _set_status(payment, PaymentStatus.PAID, Kind.CAPTURE_COMPLETED, previous=previous, paypal_id=capture.id, by=by)
    return Settlement("paid", payment)


def _refund_released(payment: Payment) -> None:
    """Money captured for a slot that was released: give it back now (or leave a record for staff)."""
    try:
        payment_refund(payment=payment, by=None, kind=Kind.LATE_CAPTURE_REFUNDED, allow_unpaid=True)
    except (UpstreamUnavailable, DomainConflict) as error:
        with transaction.atomic():
            locked = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
            _record(locked, Kind.REFUND_FAILED, paypal_id=locked.paypal_capture_id, error=error)
        logger.error("refund of late capture %s failed: %s", payment.paypal_capture_id, error)


def payment_refund(
    *, payment: Payment, by: User | None, kind: str = Kind.REFUNDED, allow_unpaid: bool = False
) -> Payment:
    """Refund the payment's capture in full (staff in the admin, cancellations, late captures)."""
    payment = Payment.objects.get(pk=payment.pk)
    if payment.status == PaymentStatus.REFUNDED:
        return payment
    if not payment.paypal_capture_id or (payment.status != PaymentStatus.PAID and not allow_unpaid):
        raise InvalidTransition("Only a paid payment can be refunded.")
    try:
        refund = paypal.refund_capture(
            capture_id=payment.paypal_capture_id, request_id=f"cybermed-refund-{payment.paypal_capture_id}"
        )
    except paypal.PayPalUnavailable as error:
        raise _unavailable(error) from error
    except paypal.PayPalError as error:
        raise InvalidTransition(f"PayPal refused the refund ({error.name}).") from error
    with transaction.atomic():
        payment = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
        if payment.status == PaymentStatus.REFUNDED:
            return payment
        payment.paypal_refund_id = str(refund.get("id", ""))
        payment.refunded_at = timezone.now()
        _set_status(payment, PaymentStatus.REFUNDED, kind, paypal_id=payment.paypal_refund_id, by=by)
    return payment


def refund_on_cancellation(*, appointment_id: int, actor_id: int | None, notice_given: bool) -> Payment | None:
    """The contract's refund policy for a cancelled, paid appointment: in full when the doctor or staff
    cancelled, or the patient did with at least the doctor's cancellation notice; otherwise none."""
    payment = Payment.objects.filter(appointment_id=appointment_id, status=PaymentStatus.PAID).first()
    if payment is None:
        return None
    by = User.objects.filter(pk=actor_id).first() if actor_id else None
    if by is not None and by.role == Role.PATIENT and by.pk == payment.appointment.patient_id and not notice_given:
        return None
    return payment_refund(payment=payment, by=by)


# --- Webhooks -------------------------------------------------------------------------------------

HANDLED_EVENTS = frozenset(
    {
        "CHECKOUT.ORDER.APPROVED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.PENDING",
        "PAYMENT.CAPTURE.DENIED",
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.REVERSED",
    }
)


class WebhookRejected(Exception):
    """Not an event we accept (unknown type, malformed, or not signed by PayPal): 400."""


def webhook_receive(*, headers: dict[str, str], event: Any) -> str:
    """Verify, deduplicate and apply one PayPal webhook event; return "applied" or "duplicate"."""
    if not isinstance(event, dict) or not isinstance(event.get("resource"), dict):
        raise WebhookRejected("Not a PayPal event.")
    event_id, event_type = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 64 or event_type not in HANDLED_EVENTS:
        raise WebhookRejected("Unknown event.")
    try:
        verified = paypal.verify_webhook_signature(headers=headers, event=event)
    except paypal.PayPalUnavailable as error:
        raise _unavailable(error) from error  # PayPal retries the delivery later
    if not verified:
        raise WebhookRejected("The signature could not be verified.")
    resource = event["resource"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(
                    event_id=event_id,
                    event_type=event_type,
                    resource_id=str(resource.get("id", ""))[:64],
                    payload=event,
                )
        except IntegrityError:
            return "duplicate"
        _apply(event_type, resource)
    return "applied"


def _related_order_id(resource: dict[str, Any]) -> str:
    related = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
    return str(related or "")


def _capture_id_from_links(resource: dict[str, Any]) -> str:
    for link in resource.get("links", []) or []:
        href = str((link or {}).get("href", ""))
        if (link or {}).get("rel") == "up" and "/captures/" in href:
            return href.rstrip("/").rsplit("/", 1)[-1]
    return ""


def _apply(event_type: str, resource: dict[str, Any]) -> None:
    from payments import tasks  # the tasks module imports these services

    resource_id = str(resource.get("id", ""))
    # An event that names no id of ours matches nothing: never a blank-id lookup, which would match every
    # payment that has no capture (or order) yet.
    if event_type == "CHECKOUT.ORDER.APPROVED":
        payment = Payment.objects.filter(paypal_order_id=resource_id).exclude(paypal_order_id="").first()
        if payment is not None and payment.status == PaymentStatus.AWAITING_PAYMENT:
            # The patient approved but may never come back to the app: capture for them, after answering PayPal.
            transaction.on_commit(lambda: tasks.capture_payment.enqueue(payment.pk), robust=True)
        return
    if event_type in ("PAYMENT.CAPTURE.REFUNDED",):
        capture_id = _capture_id_from_links(resource)
        payment = Payment.objects.filter(paypal_capture_id=capture_id).exclude(paypal_capture_id="").first()
        if payment is not None and payment.status != PaymentStatus.REFUNDED:
            payment = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
            payment.paypal_refund_id, payment.refunded_at = resource_id, timezone.now()
            _set_status(payment, PaymentStatus.REFUNDED, Kind.REFUNDED, paypal_id=resource_id)
        return
    order_id = _related_order_id(resource)
    payment = (
        Payment.objects.filter(paypal_capture_id=resource_id).exclude(paypal_capture_id="").first()
        or Payment.objects.filter(paypal_order_id=order_id).exclude(paypal_order_id="").first()
    )
    if payment is None:
        logger.info("webhook %s for unknown capture %s", event_type, resource_id)
        return
    if event_type == "PAYMENT.CAPTURE.REVERSED":
        payment = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
        if payment.status != PaymentStatus.REFUNDED:
            _set_status(payment, PaymentStatus.REFUNDED, Kind.REVERSED, paypal_id=resource_id)
        return
    status = {"PAYMENT.CAPTURE.COMPLETED": "COMPLETED", "PAYMENT.CAPTURE.PENDING": "PENDING"}.get(
        event_type, "DECLINED"
    )
    capture = paypal.Capture(id=resource_id, status=status, order_id=order_id or payment.paypal_order_id)
    settlement = _settle(payment_id=payment.pk, capture=capture, by=None)
    if settlement.outcome == "refund":
        transaction.on_commit(lambda: tasks.refund_released.enqueue(payment.pk), robust=True)


def payment_capture_approved(*, payment_id: int) -> None:
    """The webhook's capture for a patient who approved in PayPal and did not come back (a background task)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != PaymentStatus.AWAITING_PAYMENT:
        return
    try:
        outcome = payment_capture(payment=payment, by=None).outcome
        logger.info("capture after approval of payment %s: %s", payment_id, outcome)
    except (DomainConflict, UpstreamUnavailable) as error:
        logger.info("capture after approval of payment %s: %s", payment_id, error)


def payment_refund_released(*, payment_id: int) -> None:
    _refund_released(Payment.objects.get(pk=payment_id))
