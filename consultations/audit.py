"""Access audit for consultations: one append-only row per record read, created or changed."""

import ipaddress
from collections.abc import Iterable

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from consultations.choices import AccessAction, AccessChannel
from consultations.models import Consultation, ConsultationAccessLog
from users.models import User


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client address as DRF's throttles see it (X-Forwarded-For only as far as NUM_PROXIES allows).

    Works for a DRF Request and for a plain Django request (the admin): both expose `META`. Anything
    that is not an IP address (a forged or malformed header) falls back to the socket peer.
    """
    return _valid_ip(BaseThrottle().get_ident(request)) or _valid_ip(request.META.get("REMOTE_ADDR"))


def access_log_record(
    *,
    actor: User,
    consultations: Iterable[Consultation],
    action: AccessAction,
    channel: AccessChannel,
    client_ip: str | None,
) -> list[ConsultationAccessLog]:
    """Write one audit row per consultation in a single insert."""
    rows = [
        ConsultationAccessLog(
            actor=actor, action=action, consultation_id=consultation.pk, channel=channel, client_ip=client_ip
        )
        for consultation in consultations
    ]
    return ConsultationAccessLog.objects.bulk_create(rows) if rows else []
