"""Background work of payments: PayPal calls that must not hold up a request or a webhook answer."""

from django_tasks import task

from payments import services


@task()
def expire_payment_holds() -> int:
    """Release every expired unpaid hold (run it every minute: cron, or any scheduler that enqueues it)."""
    return services.payment_holds_expire()


@task()
def capture_payment(payment_id: int) -> None:
    services.payment_capture_approved(payment_id=payment_id)


@task()
def refund_released(payment_id: int) -> None:
    services.payment_refund_released(payment_id=payment_id)


@task()
def refund_cancelled(appointment_id: int, actor_id: int | None, notice_given: bool) -> None:
    services.refund_on_cancellation(appointment_id=appointment_id, actor_id=actor_id, notice_given=notice_given)
