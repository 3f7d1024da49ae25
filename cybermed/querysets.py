"""QuerySets and abstract models shared by every app."""

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


class AppendOnlyModel(models.Model):
    """An audit row: inserted once, never changed or deleted, one at a time or in bulk."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{capfirst(self._meta.verbose_name)} rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{capfirst(self._meta.verbose_name)} rows cannot be deleted.")
