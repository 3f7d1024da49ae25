"""Shared plumbing with state: the idempotency keys of retried POSTs (see cybermed/idempotency.py)."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The first response to a POST sent with `Idempotency-Key`, replayed to the same user's retries for 24 h.

    The row is inserted in the same transaction as the request's own writes and holds the response when it
    commits, so the unique (user, key) pair is what makes a concurrent duplicate wait and then replay it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    # JSON text rather than a JSONField: PostgreSQL's jsonb would reorder the keys of the replayed body.
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_user_key_uniq")]

    def __str__(self) -> str:
        return f"{self.key} (user {self.user_id}, {self.status_code})"
