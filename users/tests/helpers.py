import re

from django.core import mail


def uid_and_token_from_last_email() -> tuple[str, str]:
    body = mail.outbox[-1].body
    uid = re.search(r"^uid: (\S+)$", body, re.MULTILINE).group(1)
    token = re.search(r"^token: (\S+)$", body, re.MULTILINE).group(1)
    return uid, token


ADMIN_PASSWORD = "Str0ng-admin-pass!"


def admin_add_patient_form(*, email: str) -> dict[str, str]:
    """The admin's "add user" form for a patient with a usable password (ADMIN_PASSWORD)."""
    return {
        "email": email,
        "first_name": "A",
        "last_name": "B",
        "role": "patient",
        "usable_password": "true",
        "password1": ADMIN_PASSWORD,
        "password2": ADMIN_PASSWORD,
    }
