"""Text messages through a configurable backend, shaped like `django.core.mail`'s.

`SMS_BACKEND` names a class with `send_messages(messages) -> list[SmsResult]`:

- `notifications.sms.backends.console.SmsBackend` prints them (the default, for development);
- `notifications.sms.backends.filebased.SmsBackend` appends them to a file in `SMS_FILE_PATH`;
- `notifications.sms.backends.locmem.SmsBackend` keeps them in `notifications.sms.outbox` (tests);
- `notifications.sms.backends.twilio.SmsBackend` sends them through Twilio's REST API.

Messages are sent by background tasks (notifications.tasks), never inside a request.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

# Filled by the locmem backend, like django.core.mail.outbox.
outbox: list["SmsMessage"] = []


@dataclass
class SmsMessage:
    to: str  # E.164
    body: str
    # Where the provider should report delivery (Twilio's StatusCallback); None: no report.
    status_callback: str | None = None


@dataclass(frozen=True)
class SmsResult:
    """What the backend knows right after sending: a provider id to match later reports, a status, an error."""

    status: str  # one of notifications.choices.SmsStatus
    provider_id: str = ""
    error: str = ""
    extra: dict = field(default_factory=dict)


def get_connection(backend: str | None = None, **kwargs: object):  # noqa: ANN201 - any backend class
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)


def send_sms(to: str, body: str, *, status_callback: str | None = None) -> SmsResult:
    return get_connection().send_messages([SmsMessage(to=to, body=body, status_callback=status_callback)])[0]
