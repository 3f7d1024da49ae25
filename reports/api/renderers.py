"""CSV for every report: streamed, one header row, cells neutralised against spreadsheet formulas."""

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

# A spreadsheet runs a cell that starts with one of these as a formula (tab and CR too: some strip them first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CSVRenderer(BaseRenderer):
    """Negotiated by `Accept: text/csv` or `?format=csv`; the views stream the body themselves."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: object, accepted_media_type: str | None = None, renderer_context: dict | None = None):
        # Only reached for bodies the view did not stream itself; errors are switched to JSON before this.
        return b""


def safe_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Sequence[str], rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([safe_cell(row.get(column)) for column in columns])


def csv_response(*, columns: Sequence[str], rows: Iterable[dict], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
