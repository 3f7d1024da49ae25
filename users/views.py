"""Server-rendered account pages: where account emails link when no FRONTEND_URL is configured.

They finish an activation or a password reset through the same services as the API. A GET only shows a page:
mail scanners prefetch links, so nothing is spent until the person presses a button (a CSRF-protected POST).
"""

from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from users import services
from users.tokens import user_for_activation, user_for_password_reset


def _invalid(request: HttpRequest, *, title: str) -> HttpResponse:
    return render(request, "users/account/invalid_link.html", {"title": title}, status=400)


@never_cache  # the token is in the URL: keep these pages out of every cache
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    title = "Activate your account"
    if user_for_activation(uid, token) is None:
        return _invalid(request, title=title)
    if request.method == "GET":
        return render(request, "users/account/activate.html", {"title": title})
    try:
        user = services.user_activate(uid=uid, token=token)
    except ValidationError:  # spent between the GET and the POST (a second tab, a second click)
        return _invalid(request, title=title)
    return render(request, "users/account/activated.html", {"title": "Account activated", "email": user.email})


@never_cache  # the token is in the URL: keep these pages out of every cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    title = "Choose a new password"
    user = user_for_password_reset(uid, token)
    if user is None:
        return _invalid(request, title=title)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "GET" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "users/account/password_reset.html", {"title": title, "form": form}, status=status)
    try:
        services.user_reset_password(uid=uid, token=token, new_password=form.cleaned_data["new_password1"])
    except ValidationError:
        return _invalid(request, title=title)
    return render(request, "users/account/password_reset_done.html", {"title": "Password changed"})
