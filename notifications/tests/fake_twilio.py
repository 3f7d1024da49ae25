"""A local stand-in for Twilio's Messages API, served on 127.0.0.1 in the test process.

It answers as Twilio does (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
201 and the message JSON for a good request, 401 for wrong credentials, 400 with Twilio's error code
21211 for a `To` that is not a phone number, and records every request for the test to inspect.
"""

import base64
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token"
FROM_NUMBER = "+15005550006"


@dataclass
class FakeTwilio:
    server: ThreadingHTTPServer
    requests: list[dict] = field(default_factory=list)
    # The status the next created message reports (Twilio says "queued", or "accepted" with a service).
    status: str = "queued"

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


def start() -> FakeTwilio:
    fake: FakeTwilio

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
            expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                self._reply(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            elif self.headers.get("Authorization") != expected_auth:
                self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
            elif not form.get("To", "").startswith("+") or not form.get("Body"):
                message = f"The 'To' number {form.get('To', '')} is not a valid phone number."
                self._reply(400, {"code": 21211, "message": message, "status": 400})
            else:
                sid = "SM" + f"{len(fake.requests):032x}"
                self._reply(201, {"sid": sid, "status": fake.status, "to": form["To"], "body": form["Body"]})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeTwilio(server=server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return fake


def stop(fake: FakeTwilio) -> None:
    fake.server.shutdown()
    fake.server.server_close()
