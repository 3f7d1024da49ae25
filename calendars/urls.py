from django.urls import re_path

from calendars.api.views import CalendarFeedIcsView

urlpatterns = [
    # Any characters up to ".ics", so that a malformed token is the view's 404, not the resolver's.
    re_path(r"^calendar/(?P<token>[^/]*)\.ics$", CalendarFeedIcsView.as_view(), name="calendar-feed-ics"),
]
