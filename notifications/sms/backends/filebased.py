import datetime as dt
import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.sms import SmsMessage, SmsResult
from notifications.sms.backends.console import SmsBackend as ConsoleSmsBackend


class SmsBackend(ConsoleSmsBackend):
    """Appends the messages of each connection to a new file in SMS_FILE_PATH (as Django's file email backend)."""

    def __init__(self, file_path: str | None = None, **kwargs: object) -> None:
        super().__init__(stream=None, **kwargs)
        self.directory = Path(file_path or settings.SMS_FILE_PATH)
        if self.directory.exists() and not self.directory.is_dir():
            raise ImproperlyConfigured(f"SMS_FILE_PATH {self.directory} exists and is not a directory.")
        self.directory.mkdir(parents=True, exist_ok=True)
        if not os.access(self.directory, os.W_OK):
            raise ImproperlyConfigured(f"SMS_FILE_PATH {self.directory} is not writable.")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        self.path = self.directory / f"{stamp}-{id(self)}.log"

    def send_messages(self, messages: list[SmsMessage]) -> list[SmsResult]:
        with self.path.open("a", encoding="utf-8") as self.stream:
            return super().send_messages(messages)
