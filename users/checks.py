"""Deploy checks: a production server whose account emails would send people to this machine's loopback address."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@register(Tags.security, deploy=True)
def check_email_link_base(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """Activation and reset links are built from FRONTEND_URL, else SITE_URL; neither may be loopback in production."""
    base = settings.FRONTEND_URL or settings.SITE_URL
    host = (urlsplit(base).hostname or "").lower()
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return [
            Warning(
                f"Account emails link to {base}, which only works on this machine.",
                hint="Set SITE_URL to this server's public https URL (or FRONTEND_URL to your web app).",
                id="users.W001",
            )
        ]
    return []
