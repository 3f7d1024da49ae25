from django.urls import path
from rest_framework.routers import SimpleRouter

from appointments.api.views import (
    AppointmentViewSet,
    AvailabilityRuleViewSet,
    DoctorSlotsView,
    PatientViewSet,
    TimeOffViewSet,
)

# SimpleRouter: no API root view and no `.json` format-suffix duplicates of every route.
router = SimpleRouter(trailing_slash=True)
router.register("availability", AvailabilityRuleViewSet, basename="availability")
router.register("time-off", TimeOffViewSet, basename="time-off")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("patients", PatientViewSet, basename="patient")

urlpatterns = [
    path("doctors/<int:doctor_id>/slots/", DoctorSlotsView.as_view(), name="doctor-slots"),
    *router.urls,
]
