"""The ASGI entry point: HTTP (Django) and WebSockets (/ws/v1/, Channels) on the same port.

Production: `uvicorn cybermed.asgi:application` (README, "Production"); `python3 dev.py run` serves the
same application through Daphne's runserver. cybermed/wsgi.py still serves HTTP alone.
"""

import os

from django.core.asgi import get_asgi_application

from cybermed.production_guard import refuse_insecure_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cybermed.settings")
# Django is set up here, before anything imports models (the consumers do).
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from messaging.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({"http": django_application, "websocket": URLRouter(websocket_urlpatterns)})
refuse_insecure_secret_key()
