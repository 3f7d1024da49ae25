from django.db import models


class PaymentStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    PAID = "paid", "Paid"
    REFUNDED = "refunded", "Refunded"
    EXPIRED = "expired", "Expired"


class PaymentEventKind(models.TextChoices):
    HOLD_CREATED = "hold_created", "Hold created"
    ORDER_CREATED = "order_created", "PayPal order created"
    CAPTURE_COMPLETED = "capture_completed", "Capture completed"
    CAPTURE_PENDING = "capture_pending", "Capture pending"
    CAPTURE_DENIED = "capture_denied", "Capture denied"
    REFUNDED = "refunded", "Refunded"
    REVERSED = "reversed", "Reversed"
    EXPIRED = "expired", "Hold expired"
    LATE_CAPTURE_REFUNDED = "late_capture_refunded", "Captured after the slot was released: refunded"
    REFUND_FAILED = "refund_failed", "Refund failed (retry from the admin)"
    WEBHOOK = "webhook", "Webhook received"
