"""Paying for an appointment with PayPal, and PayPal's webhooks. Rules live in payments.services."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import selectors as appointment_selectors
from appointments.api.serializers import AppointmentSerializer
from cybermed.api.exceptions import conflict_response
from cybermed.api.idempotency import idempotent
from cybermed.api.schema import conflict, error
from cybermed.exceptions import InvalidTransition, SlotUnavailable
from payments import selectors, services
from payments.api.serializers import OrderSerializer, WebhookResultSerializer
from payments.models import Payment
from payments.paypal import SIGNATURE_HEADERS
from users.api.permissions import IsPatient

PAYPAL_503 = error("PayPal did not answer in time (after retries with the same request id); retry later.")


def _own_payment(request: Request, appointment_id: int) -> Payment:
    payment = selectors.payment_for_patient(appointment_id=appointment_id, patient_id=request.user.pk)
    if payment is not None:
        return payment
    own = appointment_selectors.appointment_list_visible(user=request.user).filter(pk=appointment_id).exists()
    if own:
        raise InvalidTransition("Nothing to pay: this doctor charges no fee for this appointment.")
    raise Http404


class AppointmentPaymentView(APIView):
    """Pay for an appointment."""

    permission_classes = [IsPatient]

    @extend_schema(
        request=None,
        responses={201: OrderSerializer, 409: conflict(InvalidTransition), 503: PAYPAL_503},
        tags=["payments"],
    )
    @idempotent
    def post(self, request: Request, appointment_id: int) -> Response:
        """Create the PayPal order (its patient)

        For an appointment whose `payment.status` is `awaiting_payment`, before `hold_expires_at`: creates a
        PayPal order for the doctor's fee (the amount is never taken from the client) and returns where to
        send the patient to approve it. Calling it again returns the same order. 409 `invalid_transition`
        when nothing is due, it is already paid, or the hold has expired.
        """
        payment = services.payment_order_create(payment=_own_payment(request, appointment_id))
        body = {"order_id": payment.paypal_order_id, "approve_url": payment.approve_url}
        return Response(OrderSerializer(body).data, status=status.HTTP_201_CREATED)


class AppointmentPaymentCaptureView(APIView):
    """Capture an approved payment."""

    permission_classes = [IsPatient]

    @extend_schema(
        request=None,
        responses={
            200: AppointmentSerializer,
            409: conflict(
                InvalidTransition,
                SlotUnavailable,
                description="(`slot_unavailable`: the hold expired and the slot was released; the capture was "
                "refunded.)",
            ),
            503: PAYPAL_503,
        },
        tags=["payments"],
    )
    @idempotent
    def post(self, request: Request, appointment_id: int) -> Response:
        """Capture the approved PayPal order (its patient)

        Call it when PayPal sends the patient back. Captures the order and confirms the appointment
        (`status: confirmed`, `payment.status: paid`). If the hold had expired and the slot was released
        meanwhile, the money is refunded at once and the answer is 409 `slot_unavailable`. 409
        `invalid_transition` when the order is not approved yet or PayPal declined it. Calling it again after
        success returns the paid appointment.
        """
        settlement = services.payment_capture(payment=_own_payment(request, appointment_id), by=request.user)
        # Returned, not raised: the refund or the declined capture just recorded must commit with this answer.
        if settlement.outcome == "refund":
            return conflict_response(
                SlotUnavailable("The hold on this time expired and the slot was released; the payment is refunded.")
            )
        if settlement.outcome == "denied":
            return conflict_response(InvalidTransition("PayPal declined the payment."))
        appointment = appointment_selectors.appointment_base().get(pk=settlement.payment.appointment_id)
        return Response(AppointmentSerializer(appointment).data)


class PayPalWebhookView(APIView):
    """PayPal webhook."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []  # PayPal delivers in bursts and retries; a refused delivery comes back later

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: WebhookResultSerializer,
            503: PAYPAL_503,
        },
        tags=["payments"],
    )
    def post(self, request: Request) -> Response:
        """Receive a PayPal event (PayPal only)

        Verified with PayPal's verify-webhook-signature call (headers `PAYPAL-TRANSMISSION-ID`,
        `-TRANSMISSION-TIME`, `-CERT-URL`, `-AUTH-ALGO`, `-TRANSMISSION-SIG`) against `PAYPAL_WEBHOOK_ID`,
        deduplicated by event id, applied once: `CHECKOUT.ORDER.APPROVED` (captured for the patient if they do
        not come back), `PAYMENT.CAPTURE.COMPLETED`, `.PENDING`, `.DENIED`, `.REFUNDED`, `.REVERSED`. Any other
        event, a malformed one or one that fails verification → 400; a replay → 200 `duplicate`.
        """
        headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS.values()}
        try:
            result = services.webhook_receive(headers=headers, event=request.data)
        except services.WebhookRejected as rejected:
            return Response({"detail": str(rejected), "code": "invalid_webhook"}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"status": result})
