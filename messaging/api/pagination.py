from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination

from cybermed.api.fields import MAX_ID


class MessageCursorPagination(CursorPagination):
    """Newest first, by id: pages stay stable while new messages arrive (`?cursor=` from `next`)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request) -> Cursor | None:
        # DRF checks the cursor's offset but not its position, which filters the id column: a tampered
        # position ("abc", "1e5") would reach the database as a bad id and fail there.
        cursor = super().decode_cursor(request)
        position = None if cursor is None else cursor.position
        if position is not None and not (
            str(position).isascii() and str(position).isdigit() and int(position) <= MAX_ID
        ):
            raise NotFound(self.invalid_cursor_message)
        return cursor
