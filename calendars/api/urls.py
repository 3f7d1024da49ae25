from django.urls import path

from calendars.api.views import AppointmentIcsView, CalendarFeedView

urlpatterns = [
    path("calendar/feed/", CalendarFeedView.as_view(), name="calendar-feed"),
    # Here rather than as an action of the appointments viewset: appointments must not depend on calendars.
    path("appointments/<int:pk>/ics/", AppointmentIcsView.as_view(), name="appointment-ics"),
]
