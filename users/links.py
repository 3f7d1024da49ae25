"""Where account emails send people: the integrator's web app when FRONTEND_URL is set, else our own pages."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

# (path in the integrator's app, our page's URL name) for each kind of account email.
_TARGETS = {
    "activation": ("/activate", "account-activate"),
    "password_reset": ("/reset-password", "account-password-reset"),
}


def account_link(*, kind: str, uid: str, token: str) -> str:
    frontend_path, page = _TARGETS[kind]
    if settings.FRONTEND_URL:
        return f"{settings.FRONTEND_URL}{frontend_path}?{urlencode({'uid': uid, 'token': token})}"
    return settings.SITE_URL + reverse(page, kwargs={"uid": uid, "token": token})


def home_link() -> str:
    """Where "see it in CyberMed" links go: the web app, or this server's front page (the API docs)."""
    return settings.FRONTEND_URL or settings.SITE_URL + "/"
