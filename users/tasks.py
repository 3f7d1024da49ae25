"""Account emails, sent from a background task so a slow mail server never holds up a request."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from users.links import account_link
from users.models import User
from users.tokens import account_activation_token, password_reset_token, uid_encode

EMAIL_KINDS = {
    "activation": account_activation_token,
    "password_reset": password_reset_token,
}


@task()
def send_account_email(*, user_id: int, kind: str) -> bool:
    """Email `user_id` a fresh `kind` token ("activation" or "password_reset"); False if they are gone."""
    generator = EMAIL_KINDS[kind]
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return False
    # The token is made here, at send time, so it matches the account as it is when the email leaves.
    uid, token = uid_encode(user), generator.make_token(user)
    context = {
        "user": user,
        "uid": uid,
        "token": token,
        "link": account_link(kind=kind, uid=uid, token=token),
        "timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    subject = render_to_string(f"users/email/{kind}_subject.txt", context).strip()
    body = render_to_string(f"users/email/{kind}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True
