import os

from django.core.asgi import get_asgi_application

from cybermed.production_guard import refuse_insecure_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cybermed.settings")
application = get_asgi_application()
refuse_insecure_secret_key()
