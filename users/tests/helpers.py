import re

from django.core import mail


def uid_and_token_from_last_email() -> tuple[str, str]:
    body = mail.outbox[-1].body
    uid = re.search(r"^uid: (\S+)$", body, re.MULTILINE).group(1)
    token = re.search(r"^token: (\S+)$", body, re.MULTILINE).group(1)
    return uid, token
