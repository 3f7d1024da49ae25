from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications.api.views import NotificationViewSet, TwilioStatusCallbackView, WaitlistEntryViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")
router.register("waitlist", WaitlistEntryViewSet, basename="waitlist")

urlpatterns = [
    *router.urls,
    path("sms/twilio/status/", TwilioStatusCallbackView.as_view(), name="sms-twilio-status"),
]
