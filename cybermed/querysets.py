"""QuerySets shared by every app."""

from typing import Any

from django.db import models
from django.utils.text import capfirst


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit row."""


class AppendOnlyQuerySet(models.QuerySet):
    """For audit trails: rows are only ever inserted, so bulk updates and deletes raise AppendOnlyError."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self._rows()} cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self._rows()} cannot be deleted.")

    def _rows(self) -> str:
        return f"{capfirst(self.model._meta.verbose_name)} rows"
