from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """`?page=N&page_size=M`, 20 by default and never more than 100 rows a page."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
