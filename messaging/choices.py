from django.db import models


class MessageStatus(models.TextChoices):
    SENT = "sent", "Sent"
    RETRACTED = "retracted", "Retracted"


class Event(models.TextChoices):
    """The `type` of every server-to-client frame on /ws/v1/ (docs/realtime.md)."""

    HELLO = "hello"
    PONG = "pong"
    MESSAGE_CREATED = "message.created"
    MESSAGE_RETRACTED = "message.retracted"
    THREAD_READ = "thread.read"
    TYPING = "typing"
    NOTIFICATION_CREATED = "notification.created"
