from rest_framework.routers import SimpleRouter

from notifications.api.views import NotificationViewSet, WaitlistEntryViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")
router.register("waitlist", WaitlistEntryViewSet, basename="waitlist")

urlpatterns = router.urls
