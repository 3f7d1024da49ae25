from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_insecure_secret_key() -> None:
    """Production entry points call this so a server never runs on the public development key."""
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development) before serving.")
