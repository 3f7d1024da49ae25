from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from appointments.extensions import PaymentReader, register_payment_reader
        from payments import receivers  # noqa: F401 - connects the receivers
        from payments.selectors import SUMMARY_COLUMNS, payment_summary, payment_summary_of_row

        register_payment_reader(
            PaymentReader(
                read=payment_summary,
                related="payment",
                columns=SUMMARY_COLUMNS,
                read_columns=payment_summary_of_row,
            )
        )
