"""One log format for the whole process: Overture's lines and uvicorn's (access log included).

``text`` is for a terminal; ``json`` writes one object a line for a log shipper: time, level,
logger, message, the trace and span it happened in (when tracing is on), and for an access-log
line the client, method, path, HTTP version and status as fields of their own. Query strings
and other secrets in URLs are taken out when the record is made (``http.log_redaction``), so
both formats show them redacted.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from overture.observability import tracing

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "uvicorn.access"
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == len(_ACCESS_FIELDS):
            out.update(zip(_ACCESS_FIELDS, args, strict=True))
        ids = tracing.current_ids()
        if ids is not None:
            out["trace_id"], out["span_id"] = ids
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def formatter_for(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"log_format must be text or json, not {log_format!r}")


def configure(log_format: str, level: str | None = None) -> logging.Handler:
    """Format the process's log lines as ``log_format`` and, given a ``level``, log Overture's
    loggers from that level on; returns the handler that writes them.

    The root logger's own stream handler (the one ``logging.basicConfig`` made) gets the
    format; one is added on stderr if there is none. Handlers that others installed (a test
    runner's capture) are left as they are. uvicorn's loggers reach this handler when uvicorn
    is started with ``log_config=None``.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if type(h) is logging.StreamHandler), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        root.addHandler(handler)
    handler.setFormatter(formatter_for(log_format))
    if level is not None:
        logging.getLogger("overture").setLevel(level.upper())
    return handler
