"""A tiny OpenID provider on 127.0.0.1 for the tests: a discovery document and a JWKS for a fresh RSA key,
and real RS256-signed ID tokens (PyJWT) with whatever claims a test wants."""

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "cybermed-mobile"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class OidcProvider:
    server: ThreadingHTTPServer
    key: rsa.RSAPrivateKey
    kid: str
    jwks_requests: int = 0

    @property
    def issuer(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def jwks(self) -> dict:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, *, key: rsa.RSAPrivateKey | None = None, headers: dict | None = None, **overrides: object) -> str:
        """An ID token for a verified user, signed with the provider's key; `overrides` replace claims
        (None removes one)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "user-123",
            "email": "ada@example.com",
            "email_verified": True,
            "given_name": "Ada",
            "family_name": "Lovelace",
            "iat": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        pem = (key or self.key).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": self.kid, **(headers or {})})


def start() -> OidcProvider:
    provider: OidcProvider

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/.well-known/openid-configuration":
                body = {
                    "issuer": provider.issuer,
                    "jwks_uri": provider.jwks_url,
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            elif self.path.partition("?")[0] == "/jwks":
                provider.jwks_requests += 1
                body = provider.jwks()
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider = OidcProvider(server=server, key=new_key(), kid=uuid.uuid4().hex)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return provider


def stop(provider: OidcProvider) -> None:
    provider.server.shutdown()
    provider.server.server_close()
