from django.urls import path

from payments.api.views import AppointmentPaymentCaptureView, AppointmentPaymentView, PayPalWebhookView

urlpatterns = [
    path("appointments/<int:appointment_id>/payment/", AppointmentPaymentView.as_view(), name="appointment-payment"),
    path(
        "appointments/<int:appointment_id>/payment/capture/",
        AppointmentPaymentCaptureView.as_view(),
        name="appointment-payment-capture",
    ),
    path("payments/paypal/webhook/", PayPalWebhookView.as_view(), name="paypal-webhook"),
]
