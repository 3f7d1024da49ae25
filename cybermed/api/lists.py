"""List endpoints rendered from `.values()` rows instead of model instances run through a serializer.

A 20-row page spent about half of its server time building model instances and walking DRF fields
(issue 19). A list view that sets `list_rows` renders its page from plain dicts: `ValuesRows.columns`
are fetched with `.values()`, and `ValuesRows.render` turns one row into exactly what the serializer
would have rendered. The serializer stays the contract (detail, writes, the OpenAPI schema); each
`ValuesRows` has a test that renders the same rows both ways and compares the JSON byte for byte,
every optional and nested field included.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from cybermed.api.filters import only_pagination


def drf_datetime(moment: dt.datetime) -> str:
    """An aware datetime as DRF's DateTimeField writes it, in the zone it carries: ISO 8601, `+00:00` as `Z`."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ValuesRows:
    """How one list endpoint turns `.values(*columns)` rows into its JSON objects."""

    columns: ClassVar[Sequence[str]] = ()
    _values_base: ClassVar[QuerySet]  # set on each subclass by values_base(), on first use

    def __init__(self, request: Request | None = None) -> None:
        self.request = request
        # DRF's DateTimeField renders in the current zone; looked up once per page, not once per value.
        self.zone = timezone.get_current_timezone()

    def datetime(self, value: dt.datetime | None) -> str | None:
        """What DRF's DateTimeField renders: ISO 8601 in the current zone, `+00:00` written `Z`."""
        return None if value is None else drf_datetime(value.astimezone(self.zone))

    def render(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def file_url(self, model: type[Model], field: str, name: str | None) -> str | None:
        """What DRF's FileField/ImageField renders for a stored name: the absolute URL, None when empty."""
        if not name:
            return None
        url = model._meta.get_field(field).storage.url(name)
        return self.request.build_absolute_uri(url) if self.request is not None else url

    def fetch(self, queryset: QuerySet) -> QuerySet:
        return queryset.values(*self.columns)

    @classmethod
    def unscoped(cls) -> QuerySet:
        """Every row the list can show, before the caller's scope: what `values_base` fetches."""
        raise NotImplementedError

    @classmethod
    def values_base(cls) -> QuerySet:
        """`fetch(unscoped())`, built once per process (on first use: the apps are ready by then, and apps above
        may have registered columns); a clone each call. See `ValuesListMixin.list_scope`."""
        built = cls.__dict__.get("_values_base")  # this class's own, never a parent's
        if built is None:
            built = cls._values_base = cls().fetch(cls.unscoped())
        return built.all()

    def render_all(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        render = self.render
        return [render(row) for row in rows]


class _Page:
    """What the paginator pages: the count of the model query (`list_count`), the rows of its `.values()` query.

    A `.values()` query keeps the joins its columns need when counted, so PostgreSQL counted a busy doctor's
    appointments through four joins (about 50 ms at 1M rows); the model query's count drops them and stays
    an index-only scan.
    """

    ordered = True  # the paginator's warning check: the model query is ordered by its view

    def __init__(self, rows: QuerySet, count: Callable[[], int]) -> None:
        self.rows, self._count = rows, count

    def count(self) -> int:
        return self._count()

    def __getitem__(self, index: slice) -> QuerySet:
        return self.rows[index]


class ValuesListMixin:
    """`list()` for a GenericAPIView whose `list_rows` renders its rows (filters and pagination unchanged)."""

    list_rows: ClassVar[type[ValuesRows]]

    def list_count(self, queryset: QuerySet) -> int:
        """The page's `count`: the filtered model query's (a view may answer it from a cache)."""
        return queryset.count()

    def list_scope(self, rows: ValuesRows) -> QuerySet | None:
        """The caller's rows of `rows.values_base()`, the `.values()` query built once per process; None (the
        default) when the view has no such query."""
        return None

    def list_values(self, rows: ValuesRows, queryset: QuerySet) -> QuerySet:
        """The `.values()` query of the page's rows.

        When the query string holds nothing but pagination, the view's `list_scope` of the query built once:
        resolving two dozen columns through their joins cost an appointment page 0.38 ms of its 3, and a thread
        page 0.6 ms of its 3.6 (issue 19). Otherwise (filtered, ordered) `rows.fetch` of the filtered model query.
        """
        if only_pagination(self.request):
            scoped = self.list_scope(rows)
            if scoped is not None:
                return scoped
        return rows.fetch(queryset)

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = self.list_rows(request)
        queryset = self.filter_queryset(self.get_queryset())
        values = self.list_values(rows, queryset)
        if self.paginator is None:
            return Response(rows.render_all(values))
        page = self.paginate_queryset(_Page(values, lambda: self.list_count(queryset)))
        return self.get_paginated_response(rows.render_all(page))
