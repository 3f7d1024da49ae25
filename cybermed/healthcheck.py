"""Container health check: `python -m cybermed.healthcheck` exits 0 when this container's web server answers
GET /api/health/ with 200 (the database answers too), 1 otherwise. Standard library only, so it stays cheap.

The request carries a Host header from ALLOWED_HOSTS (the first entry): with ALLOWED_HOSTS=api.example.com
a request for Host 127.0.0.1 would be refused with 400. /api/health/ is exempt from the HTTPS redirect.
"""

import http.client
import os
import sys


def host_header(allowed_hosts: str) -> str:
    first = next((host.strip() for host in allowed_hosts.split(",") if host.strip()), "localhost")
    if first == "*":
        return "localhost"
    return first.lstrip(".")  # ".example.com" allows example.com and its subdomains


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    host = host_header(os.environ.get("ALLOWED_HOSTS", "localhost"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/health/", headers={"Host": host})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"health check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"health check failed: HTTP {status}", file=sys.stderr)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
