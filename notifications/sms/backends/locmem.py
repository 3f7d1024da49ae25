import copy

from notifications import sms
from notifications.choices import SmsStatus
from notifications.sms import SmsMessage, SmsResult
from notifications.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Keeps the messages in `notifications.sms.outbox`, for tests."""

    def send_messages(self, messages: list[SmsMessage]) -> list[SmsResult]:
        first = len(sms.outbox)
        sms.outbox.extend(copy.copy(m) for m in messages)
        return [SmsResult(status=SmsStatus.SENT, provider_id=f"locmem-{first + i}") for i in range(len(messages))]
