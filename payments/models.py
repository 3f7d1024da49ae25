from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from appointments.models import Appointment
from payments.choices import PaymentEventKind, PaymentStatus


class Payment(models.Model):
    """What a patient owes for one appointment, and every PayPal id it gathered on the way.

    Created with the booking when the doctor charges a fee; the amount and currency are copied from the
    doctor's profile then, so that a later change of fee never changes what this patient pays.
    """

    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="payment")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.AWAITING_PAYMENT)
    hold_expires_at = models.DateTimeField(db_index=True)
    paypal_order_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    approve_url = models.CharField(max_length=500, blank=True, default="")
    paypal_capture_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    paypal_capture_status = models.CharField(max_length=32, blank=True, default="")
    paypal_refund_id = models.CharField(max_length=64, blank=True, default="")
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=Decimal(0)), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.PAID) | ~Q(paypal_capture_id=""), name="payment_paid_has_capture"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for appointment #{self.appointment_id} ({self.status})"


class PaymentEvent(models.Model):
    """One row per thing that happened to a payment (the history staff read in the admin)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=PaymentEventKind.choices)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    paypal_id = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status or '-'} -> {self.to_status or '-'}"


class WebhookEvent(models.Model):
    """Every verified PayPal webhook event, once: the unique event id is what makes a replay a no-op."""

    event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
