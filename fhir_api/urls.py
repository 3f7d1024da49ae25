from django.urls import path, re_path

from fhir_api.api import views

# FHIR's own URL style: resource types capitalised, no trailing slash.
urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="fhir-metadata"),
    path("Appointment", views.AppointmentSearchView.as_view(), name="fhir-appointment-search"),
    path("Appointment/<int:pk>", views.AppointmentReadView.as_view(), name="fhir-appointment"),
    path("Slot", views.SlotSearchView.as_view(), name="fhir-slot-search"),
    path("Schedule/<int:pk>", views.ScheduleReadView.as_view(), name="fhir-schedule"),
    path("Practitioner/<int:pk>", views.PractitionerReadView.as_view(), name="fhir-practitioner"),
    path("Patient/<int:pk>", views.PatientReadView.as_view(), name="fhir-patient"),
    re_path(r"^(?P<rest>.*)$", views.NotFoundView.as_view(), name="fhir-not-found"),
]
