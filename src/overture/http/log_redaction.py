"""Keeping secrets that travel in URLs out of the logs.

A token put in a query string is refused, but uvicorn's access log would still print it; a
pre-signed transcript link carries its signature in the query; Slack's ``response_url`` is a
secret in its path, and slack_sdk logs it when it retries. So, for the loggers of uvicorn's
access log and of the HTTP client libraries, every record is redacted as it is made: paths lose
their query string, URLs lose their query and credentials, and Slack's hook URLs their path.
A log record factory does it, because a logger's filters do not see its children's records.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
ACCESS_LOG = "uvicorn.access"
#: Loggers whose records may hold URLs: uvicorn's, and the client libraries'.
LIBRARIES = (ACCESS_LOG, "uvicorn.error", "httpx", "httpcore", "slack_sdk", "urllib3", "google", "openai")
#: Hosts whose URL paths are secrets (Slack's response_url and incoming webhooks).
SECRET_PATH_HOSTS = frozenset({"hooks.slack.com"})

_URL = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?:(?P<userinfo>[^\s/?#@'\"<>]*)@)?(?P<host>[^\s/?#'\"<>]+)"
    r"(?P<path>/[^\s?#'\"<>]*)?(?P<query>\?[^\s#'\"<>]*)?",
    re.IGNORECASE,
)


def _url(match: re.Match[str]) -> str:
    host = match["host"]
    userinfo = f"{REDACTED}@" if match["userinfo"] is not None else ""
    path = match["path"] or ""
    if path and host.split(":", 1)[0].lower() in SECRET_PATH_HOSTS:
        path = f"/{REDACTED}"
    query = f"?{REDACTED}" if match["query"] else ""
    return f"{match['scheme']}{userinfo}{host}{path}{query}"


def redact_urls(text: str) -> str:
    """``text`` with every URL's query string, credentials and (for Slack's hooks) path hidden."""
    return _URL.sub(_url, text)


def redact_path(path: str) -> str:
    """A request target without its query string: ``/v1/jobs?access_token=...`` → ``/v1/jobs?[redacted]``."""
    base, mark, _query = path.partition("?")
    return f"{base}?{REDACTED}" if mark else base


def _watched(name: str) -> bool:
    return any(name == logger or name.startswith(logger + ".") for logger in LIBRARIES)


def redact_record(record: logging.LogRecord) -> None:
    """Redact one record in place (uvicorn's access log keeps its arguments for its formatter)."""
    args = record.args
    if record.name == ACCESS_LOG and isinstance(args, tuple) and len(args) == 5:
        record.args = (args[0], args[1], redact_path(str(args[2])), args[3], args[4])
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return
    redacted = redact_urls(message)
    if redacted != message:
        record.msg, record.args = redacted, None


def install() -> None:
    """Redact the watched loggers' records from now on, in this process (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "overture_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _watched(record.name):
            redact_record(record)
        return record

    factory.overture_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
