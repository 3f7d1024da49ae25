from notifications.sms import SmsMessage, SmsResult


class BaseSmsBackend:
    """Sends a list of messages and says, for each, what happened. Never raises for one failed message."""

    def __init__(self, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: list[SmsMessage]) -> list[SmsResult]:
        raise NotImplementedError
