"""A fake PayPal REST server for the tests: a real HTTP server on 127.0.0.1 in the test process.

It implements what the app calls — the OAuth token, create/get/capture order, refund capture and
verify-webhook-signature — honours `PayPal-Request-Id` (a repeated id gets the first answer, as PayPal does),
and can be told to fail: answer a status N times, delay, or process the request and then answer 5xx anyway
(so the client's retry must be recognised by its request id). The app only knows PAYPAL_API_BASE.
"""

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID = "fake-client", "fake-secret", "WH-FAKE"
VALID_SIGNATURE = "valid-signature"


@dataclass
class Fault:
    path: str  # substring of the request path
    status: int = 503
    times: int = 1
    delay: float = 0.0
    after_success: bool = False  # do the work, then answer `status`


@dataclass
class State:
    orders: dict[str, dict] = field(default_factory=dict)
    captures: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    by_request_id: dict[tuple[str, str], tuple[int, dict]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, request id
    capture_status: str = "COMPLETED"
    token_ttl: int = 3600


class FakePayPal:
    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakePayPal":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.state = State()

    # --- What a test tells the fake ---------------------------------------------------------------

    def fail(self, path: str, status: int = 503, times: int = 1, after_success: bool = False) -> None:
        self.state.faults.append(Fault(path, status=status, times=times, after_success=after_success))

    def delay(self, path: str, seconds: float, times: int = 1) -> None:
        self.state.faults.append(Fault(path, status=0, times=times, delay=seconds))

    def approve(self, order_id: str) -> None:
        """The buyer approves the order in PayPal's pages."""
        with self.lock:
            self.state.orders[order_id]["status"] = "APPROVED"

    def calls_to(self, fragment: str, method: str = "POST") -> list[tuple[str, str, str]]:
        return [c for c in self.state.calls if fragment in c[1] and c[0] == method]

    # --- The server -------------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):08d}"

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = handler.path
        request_id = handler.headers.get("PayPal-Request-Id", "")
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self.lock:
            self.state.calls.append((method, path, request_id))
            fault = next((f for f in self.state.faults if f.path in path and f.times > 0), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status and not fault.after_success:
            return self._send(handler, fault.status, {"name": "INTERNAL_SERVER_ERROR"})
        with self.lock:
            status, body = self._route(handler, method, path, request_id, raw)
        if fault is not None and fault.after_success:
            return self._send(handler, fault.status, {"name": "INTERNAL_SERVER_ERROR"})
        return self._send(handler, status, body)

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): fine
            pass

    def _route(self, handler: BaseHTTPRequestHandler, method: str, path: str, request_id: str, raw: bytes):
        if path == "/v1/oauth2/token":
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if handler.headers.get("Authorization") != f"Basic {expected}":
                return 401, {"error": "invalid_client"}
            token = self._next_id("TOKEN-")
            self.state.tokens.add(token)
            return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.state.token_ttl}
        token = (handler.headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in self.state.tokens:
            return 401, {"name": "AUTHENTICATION_FAILURE"}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"name": "MALFORMED_REQUEST_JSON"}
        if request_id and (path, request_id) in self.state.by_request_id:
            return self.state.by_request_id[(path, request_id)]
        result = self._dispatch(method, path, body)
        if request_id and result[0] < 500:
            self.state.by_request_id[(path, request_id)] = result
        return result

    def _dispatch(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v2/checkout/orders":
            unit = body["purchase_units"][0]
            order_id = self._next_id("ORDER-")
            order = {
                "id": order_id,
                "status": "CREATED",
                "intent": body.get("intent"),
                "purchase_units": [{"reference_id": unit["reference_id"], "amount": unit["amount"]}],
                "links": [
                    {"rel": "payer-action", "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}"}
                ],
            }
            self.state.orders[order_id] = order
            return 201, order
        if parts[:3] == ["v2", "checkout", "orders"] and len(parts) >= 4:
            order = self.state.orders.get(parts[3])
            if order is None:
                return 404, {"name": "RESOURCE_NOT_FOUND"}
            if method == "GET" and len(parts) == 4:
                return 200, order
            if method == "POST" and parts[4:] == ["capture"]:
                if order["status"] == "COMPLETED":
                    return 422, {"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "ORDER_ALREADY_CAPTURED"}]}
                if order["status"] != "APPROVED":
                    return 422, {"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "ORDER_NOT_APPROVED"}]}
                capture_id = self._next_id("CAPTURE-")
                capture = {
                    "id": capture_id,
                    "status": self.state.capture_status,
                    "amount": order["purchase_units"][0]["amount"],
                    "order_id": order["id"],
                }
                self.state.captures[capture_id] = capture
                order["status"] = "COMPLETED"
                order["purchase_units"][0]["payments"] = {"captures": [capture]}
                return 201, order
        if parts[:3] == ["v2", "payments", "captures"] and parts[4:] == ["refund"] and method == "POST":
            capture = self.state.captures.get(parts[3])
            if capture is None:
                return 404, {"name": "RESOURCE_NOT_FOUND"}
            if capture.get("refunded"):
                return 422, {"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "CAPTURE_FULLY_REFUNDED"}]}
            capture["refunded"] = True
            refund = {"id": self._next_id("REFUND-"), "status": "COMPLETED", "amount": capture["amount"]}
            self.state.refunds[refund["id"]] = refund
            return 201, refund
        if path == "/v1/notifications/verify-webhook-signature" and method == "POST":
            ok = body.get("transmission_sig") == VALID_SIGNATURE and body.get("webhook_id") == WEBHOOK_ID
            return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}
        return 404, {"name": "RESOURCE_NOT_FOUND"}


def event(event_type: str, resource: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"WH-{event_type}-{resource.get('id')}",
        "event_type": event_type,
        "resource_type": "capture",
        "resource": resource,
    }


def signed_headers(signature: str = VALID_SIGNATURE) -> dict[str, str]:
    return {
        "PAYPAL-TRANSMISSION-ID": "tx-1",
        "PAYPAL-TRANSMISSION-TIME": "2026-01-01T00:00:00Z",
        "PAYPAL-CERT-URL": "https://api.sandbox.paypal.com/v1/notifications/certs/CERT",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-TRANSMISSION-SIG": signature,
    }
