from django.urls import path
from rest_framework.routers import DefaultRouter

from appointments.api.views import AppointmentViewSet, AvailabilityRuleViewSet, DoctorSlotsView, TimeOffViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("availability", AvailabilityRuleViewSet, basename="availability")
router.register("time-off", TimeOffViewSet, basename="time-off")
router.register("appointments", AppointmentViewSet, basename="appointment")

urlpatterns = [
    path("doctors/<int:doctor_id>/slots/", DoctorSlotsView.as_view(), name="doctor-slots"),
    *router.urls,
]
