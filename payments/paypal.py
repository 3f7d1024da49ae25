"""PayPal REST (Orders v2, Payments v2, webhook verification) over plain HTTP with `requests`.

PayPal's server SDK cannot verify webhooks and hard-codes its hosts, so this is the small client we need:
every call has a connect and a read timeout; a connection error, a timeout, a 429 or a 5xx is retried
(PAYPAL_MAX_RETRIES times, after PAYPAL_RETRY_BACKOFF_SECONDS, doubling) with the same `PayPal-Request-Id`,
so PayPal applies a retried create, capture or refund once; after that the caller gets PayPalUnavailable
(the API answers 503). A 4xx is PayPal refusing the request: PayPalError with PayPal's error name.
The OAuth token (client credentials) is cached until shortly before it expires. Amounts are decimal
strings both ways.
"""

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from cybermed.currencies import format_amount

logger = logging.getLogger("cybermed.payments")

TOKEN_CACHE_KEY = "payments:paypal:token:{client_id}:{base}"
# Ask for a new token this long before PayPal says the old one expires.
TOKEN_MARGIN_SECONDS = 60


class PayPalUnavailable(Exception):
    """PayPal did not answer in time, or answered with a server error, after every retry."""


class PayPalError(Exception):
    """PayPal refused the request (a 4xx)."""

    def __init__(self, status: int, name: str, message: str = "") -> None:
        self.status, self.name = status, name
        super().__init__(f"PayPal {status} {name}: {message}")


@dataclass(frozen=True)
class Order:
    id: str
    status: str
    approve_url: str


@dataclass(frozen=True)
class Capture:
    id: str
    status: str  # COMPLETED, PENDING, DECLINED, FAILED
    order_id: str
    amount: Decimal | None = None
    currency: str = ""


def _base() -> str:
    return settings.PAYPAL_API_BASE.rstrip("/")


def _timeouts() -> tuple[float, float]:
    return settings.PAYPAL_CONNECT_TIMEOUT_SECONDS, settings.PAYPAL_READ_TIMEOUT_SECONDS


def _send(method: str, path: str, **kwargs: Any) -> requests.Response:
    """One call, retried on transport errors, 429 and 5xx; the caller's headers (the request id) are kept."""
    attempts = settings.PAYPAL_MAX_RETRIES + 1
    delay = settings.PAYPAL_RETRY_BACKOFF_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            response = requests.request(method, f"{_base()}{path}", timeout=_timeouts(), **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            logger.warning("paypal %s %s attempt %d/%d: %s", method, path, attempt, attempts, type(error).__name__)
        else:
            if response.status_code < 500 and response.status_code != 429:
                return response
            logger.warning("paypal %s %s attempt %d/%d: HTTP %d", method, path, attempt, attempts, response.status_code)
        if attempt < attempts:
            time.sleep(delay)
            delay *= 2
    raise PayPalUnavailable(f"PayPal did not answer {method} {path}")


def _token(*, fresh: bool = False) -> str:
    key = TOKEN_CACHE_KEY.format(client_id=settings.PAYPAL_CLIENT_ID, base=_base())
    token = None if fresh else cache.get(key)
    if token:
        return token
    response = _send(
        "POST",
        "/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        # Wrong credentials are our configuration, not the client's request: the service is unavailable.
        logger.error("paypal token refused: HTTP %d", response.status_code)
        raise PayPalUnavailable("PayPal refused our credentials")
    body = _json(response)
    token, lifetime = body.get("access_token"), int(body.get("expires_in", 0))
    if not token:
        raise PayPalUnavailable("PayPal sent no token")
    cache.set(key, token, timeout=max(lifetime - TOKEN_MARGIN_SECONDS, 1))
    return token


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as error:
        raise PayPalUnavailable(f"PayPal answered HTTP {response.status_code} without JSON") from error
    if not isinstance(body, dict):
        raise PayPalUnavailable("PayPal answered with something other than a JSON object")
    return body


def _call(method: str, path: str, *, body: dict | None = None, request_id: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Prefer": "return=representation"}
    if request_id:
        headers["PayPal-Request-Id"] = request_id
    for fresh in (False, True):
        headers["Authorization"] = f"Bearer {_token(fresh=fresh)}"
        response = _send(method, path, json=body, headers=headers)
        if response.status_code != 401:  # an expired or revoked token: once more with a new one
            break
    if response.status_code >= 400:
        error = _json(response) if response.content else {}
        # PayPal names the precise reason in details[0].issue (ORDER_NOT_APPROVED), the family in `name`.
        details = error.get("details") if isinstance(error.get("details"), list) else []
        issue = details[0].get("issue") if details and isinstance(details[0], dict) else None
        raise PayPalError(response.status_code, str(issue or error.get("name", "")), str(error.get("message", "")))
    return _json(response) if response.content else {}


def _approve_url(order: dict[str, Any]) -> str:
    links = {link.get("rel"): link.get("href", "") for link in order.get("links", []) if isinstance(link, dict)}
    return links.get("payer-action") or links.get("approve") or ""


def create_order(*, amount: Decimal, currency: str, reference: str, request_id: str) -> Order:
    body = {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "reference_id": reference,
                "custom_id": reference,
                "amount": {"currency_code": currency, "value": format_amount(amount, currency)},
            }
        ],
    }
    order = _call("POST", "/v2/checkout/orders", body=body, request_id=request_id)
    return Order(id=str(order.get("id", "")), status=str(order.get("status", "")), approve_url=_approve_url(order))


def capture_from(order: dict[str, Any]) -> Capture | None:
    """The first capture inside an order (as captured or fetched), if any."""
    for unit in order.get("purchase_units", []) or []:
        for capture in ((unit or {}).get("payments") or {}).get("captures", []) or []:
            amount = capture.get("amount") or {}
            return Capture(
                id=str(capture.get("id", "")),
                status=str(capture.get("status", "")),
                order_id=str(order.get("id", "")),
                amount=Decimal(str(amount["value"])) if "value" in amount else None,
                currency=str(amount.get("currency_code", "")),
            )
    return None


def get_order(order_id: str) -> dict[str, Any]:
    return _call("GET", f"/v2/checkout/orders/{order_id}")


def capture_order(*, order_id: str, request_id: str) -> Capture:
    """Capture an approved order; an order captured before (by a retry or the webhook) gives that capture."""
    try:
        order = _call("POST", f"/v2/checkout/orders/{order_id}/capture", body={}, request_id=request_id)
    except PayPalError as error:
        if error.name != "ORDER_ALREADY_CAPTURED":
            raise
        order = get_order(order_id)
    capture = capture_from(order)
    if capture is None:
        raise PayPalUnavailable("PayPal's capture carried no capture")
    return capture


def refund_capture(*, capture_id: str, request_id: str) -> dict[str, Any]:
    """Refund a capture in full."""
    return _call("POST", f"/v2/payments/captures/{capture_id}/refund", body={}, request_id=request_id)


SIGNATURE_HEADERS = {
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
    "cert_url": "PAYPAL-CERT-URL",
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
}


def verify_webhook_signature(*, headers: dict[str, str], event: dict[str, Any]) -> bool:
    """Ask PayPal whether these headers sign this event for our webhook; missing headers are not a signature."""
    values = {field: headers.get(name, "") for field, name in SIGNATURE_HEADERS.items()}
    if not all(values.values()) or not settings.PAYPAL_WEBHOOK_ID:
        return False
    body = {**values, "webhook_id": settings.PAYPAL_WEBHOOK_ID, "webhook_event": event}
    try:
        result = _call("POST", "/v1/notifications/verify-webhook-signature", body=body)
    except PayPalError:
        return False
    return result.get("verification_status") == "SUCCESS"
