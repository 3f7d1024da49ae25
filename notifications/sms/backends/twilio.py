"""Twilio's Programmable Messaging REST API (POST /2010-04-01/Accounts/{sid}/Messages.json), over plain HTTP.

The standard library's urllib, not the Twilio SDK: one form-encoded POST with basic auth does not
justify the SDK's dependency tree, and TWILIO_API_BASE lets the tests point it at a local fake.
"""

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.choices import SmsStatus
from notifications.sms import SmsMessage, SmsResult
from notifications.sms.backends.base import BaseSmsBackend

logger = logging.getLogger(__name__)

# Twilio's message statuses → ours (https://www.twilio.com/docs/messaging/api/message-resource#message-status-values).
TWILIO_STATUS = {
    "accepted": SmsStatus.QUEUED,
    "scheduled": SmsStatus.QUEUED,
    "queued": SmsStatus.QUEUED,
    "sending": SmsStatus.QUEUED,
    "sent": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "read": SmsStatus.DELIVERED,
    "undelivered": SmsStatus.UNDELIVERED,
    "failed": SmsStatus.FAILED,
    "canceled": SmsStatus.FAILED,
}


def twilio_status(value: str) -> str | None:
    return TWILIO_STATUS.get(value)


class SmsBackend(BaseSmsBackend):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.from_number = settings.TWILIO_FROM_NUMBER
        if not (self.account_sid and self.auth_token and self.from_number):
            raise ImproperlyConfigured("The Twilio SMS backend needs TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM_NUMBER.")
        self.url = f"{settings.TWILIO_API_BASE}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        self.headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }

    def send_messages(self, messages: list[SmsMessage]) -> list[SmsResult]:
        return [self._send(message) for message in messages]

    def _send(self, message: SmsMessage) -> SmsResult:
        form = {"To": message.to, "From": self.from_number, "Body": message.body}
        if message.status_callback:
            form["StatusCallback"] = message.status_callback
        request = urllib.request.Request(
            self.url, data=urllib.parse.urlencode(form).encode(), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.TWILIO_TIMEOUT) as response:  # noqa: S310
                body = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return SmsResult(status=SmsStatus.FAILED, error=_error_of(exc))
        except (OSError, ValueError) as exc:  # unreachable, timed out, or not JSON
            logger.warning("Twilio request failed: %s", type(exc).__name__)
            return SmsResult(status=SmsStatus.FAILED, error=f"request failed: {type(exc).__name__}")
        status = twilio_status(str(body.get("status", ""))) or SmsStatus.QUEUED
        return SmsResult(status=status, provider_id=str(body.get("sid", "")))


def _error_of(exc: urllib.error.HTTPError) -> str:
    """Twilio's error code and message (e.g. 21211, the To number is not valid), never the request."""
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    code, text = body.get("code"), body.get("message")
    return f"HTTP {exc.code}" + (f" {code}" if code else "") + (f": {text}" if text else "")
