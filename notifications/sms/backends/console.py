import sys
import threading

from notifications.choices import SmsStatus
from notifications.sms import SmsMessage, SmsResult
from notifications.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Writes each message to a stream (stdout): what you would have sent, in development."""

    def __init__(self, stream=None, **kwargs: object) -> None:  # noqa: ANN001 - any text stream
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def write(self, message: SmsMessage) -> None:
        self.stream.write(f"SMS to {message.to}\n{message.body}\n{'-' * 79}\n")

    def send_messages(self, messages: list[SmsMessage]) -> list[SmsResult]:
        with self._lock:
            for message in messages:
                self.write(message)
            self.stream.flush()
        return [SmsResult(status=SmsStatus.SENT) for _ in messages]
