import os

from django.core.wsgi import get_wsgi_application

from cybermed.production_guard import refuse_insecure_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cybermed.settings")
application = get_wsgi_application()
refuse_insecure_secret_key()
