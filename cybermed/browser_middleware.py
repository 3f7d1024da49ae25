"""Browser-session middleware that stands aside for the JWT API under /api/.

Sessions, session authentication and messages serve the admin and the HTML pages. An API request
carries a bearer token and DRF sets `request.user` itself, so under /api/ those three only cost time
(issue 19). CSRF stays Django's own middleware: it costs an API request (CSRF-exempt) next to nothing,
and the deploy check (security.W003) looks for it by name. Each class here is
Django's own (so the admin's system checks and every other path see no difference), with the API
paths passed straight through. A module of its own: `cybermed.middleware` is imported by the logging
configuration, before the app registry that `django.contrib.auth` needs is ready.
"""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse

from cybermed.middleware import is_api_path


class BrowserOnly:
    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(BrowserOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(BrowserOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(BrowserOnly, messages.MessageMiddleware):
    pass
