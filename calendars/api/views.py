from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calendars import ics, selectors, services
from calendars.api.renderers import CalendarResponseMixin
from calendars.api.serializers import CalendarFeedStatusSerializer, CalendarFeedUrlSerializer
from cybermed.api.throttles import ScopedThrottle

FEED_CACHE_SECONDS = 3600
CALENDAR_200 = OpenApiResponse(OpenApiTypes.STR, description="An RFC 5545 calendar (`text/calendar`).")


def _feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("calendar-feed-ics", kwargs={"token": token})


class CalendarFeedView(APIView):
    """My secret calendar feed URL."""

    @extend_schema(responses={200: CalendarFeedStatusSerializer})
    def get(self, request: Request) -> Response:
        """Whether my calendar feed is active

        The URL itself is never shown again: rotate the feed to get a new one.
        """
        feed = selectors.calendar_feed_of(user=request.user)
        body = {
            "active": feed is not None,
            "created_at": feed.created_at if feed else None,
            "last_fetched_at": feed.last_fetched_at if feed else None,
        }
        return Response(CalendarFeedStatusSerializer(body).data)

    @extend_schema(request=None, responses={201: CalendarFeedUrlSerializer})
    def post(self, request: Request) -> Response:
        """Create or rotate my calendar feed

        Returns the secret URL once (subscribe to it in any calendar app: Google, Apple, Outlook).
        The previous URL stops working at once.
        """
        url = _feed_url(services.calendar_feed_rotate(user=request.user))
        webcal = "webcal://" + url.split("://", 1)[1]
        return Response(CalendarFeedUrlSerializer({"url": url, "webcal_url": webcal}).data, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Revoke my calendar feed

        The URL answers 404 from now on; subscribed calendars keep what they last fetched.
        """
        services.calendar_feed_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppointmentIcsView(CalendarResponseMixin, APIView):
    """One appointment as an event."""

    @extend_schema(responses={(200, "text/calendar"): CALENDAR_200})
    def get(self, request: Request, pk: int) -> Response:
        """One appointment as a calendar file

        For its patient and doctor (anyone else gets 404): the event as in the calendar feed, to import
        into a calendar app.
        """
        appointment = selectors.calendar_appointment(user=request.user, pk=pk)
        if appointment is None:
            raise Http404
        response = Response(ics.event_calendar(appointment, viewer=request.user))
        response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
        return response


class CalendarFeedIcsView(CalendarResponseMixin, APIView):
    """The subscribed calendar: its secret token is its only credential.

    ETag and Last-Modified come from one aggregate query, so an unchanged calendar is a 304 without
    loading a row, and its body is rendered once per version (cached under the ETag). Rebuilding it after a
    change reads the events' versions (plain values) and loads and renders only the events not cached yet.
    At most five queries whatever the size: the feed, the version, the versions, the missing rows, the fetch time.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "calendar_feed"
    schema = None  # outside /api/: documented in docs/calendar.md, not an operation of the JSON API

    def get(self, request: Request, token: str) -> Response:
        feed = selectors.calendar_feed_by_token(token=token)
        if feed is None:
            raise Http404
        user = feed.user
        appointments = selectors.calendar_appointments(user=user)
        version = selectors.calendar_version(appointments=appointments)
        last_modified = max(filter(None, (version.last_modified, feed.created_at)))
        etag = quote_etag(f"{feed.pk}-{version.count}-{version.id_sum}-{last_modified.timestamp():.6f}")
        services.calendar_feed_fetched(feed=feed)
        not_modified = get_conditional_response(request, etag=etag, last_modified=int(last_modified.timestamp()))
        if not_modified is not None:
            response = Response(status=not_modified.status_code)
        else:
            # The ETag names this version of this feed, so the body rendered for it can be reused by any fetch.
            key = f"calendars:feed:{etag}"
            body = cache.get(key)
            if body is None:
                body = ics.feed_calendar(
                    selectors.calendar_event_versions(appointments=appointments),
                    viewer=user,
                    load=lambda ids: selectors.calendar_events(appointments=appointments, ids=ids),
                )
                cache.set(key, body, FEED_CACHE_SECONDS)
            response = Response(body)
        response["ETag"] = etag
        response["Last-Modified"] = http_date(last_modified.timestamp())
        # A secret URL: no shared cache may keep it, and clients must check back (cheaply, with the ETag).
        response["Cache-Control"] = "private, no-cache"
        return response
