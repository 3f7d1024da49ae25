from rest_framework.pagination import CursorPagination


class MessageCursorPagination(CursorPagination):
    """Newest first, by id: pages stay stable while new messages arrive (`?cursor=` from `next`)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
