"""The ASGI entry point: HTTP (Django) and WebSockets (/ws/v1/, Channels) on the same port.

Production: `uvicorn cybermed.asgi:application` (README, "Production"); `python3 dev.py run` serves the
same application through Daphne's runserver. cybermed/wsgi.py still serves HTTP alone.

HTTP requests go to Django's WSGI handler, run by a2wsgi in a fixed pool of `ASGI_HTTP_THREADS` threads,
not to Django's ASGI handler. Every view is synchronous: the ASGI handler starts a thread for each request
and passes each async-capable middleware's hooks to it and back, which made a request cost several times
its WSGI price in CPU (a 401: 3.0-3.4 ms against 1.0 ms through a2wsgi; bench/README.md, "Real time").
"""

import asyncio
import os

from django.core.wsgi import get_wsgi_application

from cybermed.production_guard import refuse_insecure_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cybermed.settings")
# Django is set up here, before anything imports models (the consumers do).
wsgi_application = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from cybermed import garbage_collection, realtime  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(wsgi_application, workers=settings.ASGI_HTTP_THREADS),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)


async def application(scope: dict, receive: object, send: object) -> None:
    # Pushes made by the HTTP threads (after a commit) are scheduled on this loop, where the channel layer lives.
    realtime.serve_pushes_from(asyncio.get_running_loop())
    await router(scope, receive, send)


refuse_insecure_secret_key()
garbage_collection.tune_for_serving()  # last: everything loaded above is frozen
