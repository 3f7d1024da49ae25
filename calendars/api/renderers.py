"""`text/calendar` responses from DRF views, with errors still in the API's JSON shape."""

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer

from cybermed.api.schema import AutoSchema


class ICalendarRenderer(BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return data if isinstance(data, bytes) else str(data).encode()


class CalendarNegotiation(DefaultContentNegotiation):
    """Calendar clients send all sorts of Accept headers: answer with the calendar rather than a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class CalendarAutoSchema(AutoSchema):
    """Documents what CalendarResponseMixin does: the calendar as text/calendar, errors as JSON."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code, response in responses.items():
            content = response.get("content", {})
            if code.startswith(("4", "5")) and ICalendarRenderer.media_type in content:
                response["content"] = {JSONRenderer.media_type: content[ICalendarRenderer.media_type]}
        return responses


class CalendarResponseMixin:
    """Calendars as text/calendar; every error (404, 401, 429) as the usual JSON body."""

    renderer_classes = [ICalendarRenderer]
    content_negotiation_class = CalendarNegotiation
    schema = CalendarAutoSchema()

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and not isinstance(response.data, bytes):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
