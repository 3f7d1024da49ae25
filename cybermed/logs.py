"""LOG_FORMAT=json: one JSON object per log line, built by python-json-logger.

Every record carries time, level, logger, request_id and message; the access log's fields (method, path,
status, duration_ms, user_id) come as keys of their own. Values pass through the same redaction as the
plain format (cybermed.middleware.redact: calendar feed tokens), and objects a library attaches to its
records (Django's `request`, whose repr holds the full path) are left out rather than stringified.
"""

import datetime as dt
import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from cybermed.middleware import redact

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
DROPPED_EXTRAS = frozenset({"request", "server_time", "color_message", "taskName"})


class JSONFormatter(JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__(JSON_FIELDS, *args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in log_data.items()
            if key not in DROPPED_EXTRAS
        }
