from rest_framework.routers import SimpleRouter

from messaging.api.views import MessageViewSet, ThreadViewSet

router = SimpleRouter()
router.register("threads", ThreadViewSet, basename="thread")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = router.urls
