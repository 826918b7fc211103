"""Log lines as a log shipper reads them: one JSON object a line with time, level, logger and
message; an access-log line with its fields apart and its query string redacted; the trace it
happened in. Bad settings are refused by name."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from overture.http import log_redaction
from overture.observability import logs, tracing
from overture.settings import Settings


def record(name: str, msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    """A record made the way a logger makes one (through the process's record factory)."""
    return logging.getLogRecordFactory()(name, level, __file__, 1, msg, args, None)


def as_json(rec: logging.LogRecord) -> dict[str, object]:
    line = logs.JsonFormatter().format(rec)
    assert "\n" not in line
    parsed: dict[str, object] = json.loads(line)
    return parsed


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, put back as it was (handlers, level, Overture's level) afterwards."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    overture_level = logging.getLogger("overture").level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logging.getLogger("overture").setLevel(overture_level)


def test_a_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    got = as_json(record("overture.audit", "%s reason=%s job=%s", "job_completed", "done", "j1"))
    assert got["level"] == "INFO" and got["logger"] == "overture.audit"
    assert got["message"] == "job_completed reason=done job=j1"
    assert str(got["time"]).endswith("+00:00") and "T" in str(got["time"])
    assert "trace_id" not in got


def test_an_error_carries_its_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = record("overture.worker", "lane stopped", level=logging.ERROR)
        rec.exc_info = sys.exc_info()
    got = as_json(rec)
    assert got["level"] == "ERROR" and "RuntimeError: boom" in str(got["exception"])


def test_an_access_line_has_its_fields_and_no_query_values() -> None:
    """uvicorn's access record, made once the service has installed the URL redaction."""
    log_redaction.install()
    rec = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/v1/jobs?token=ov_x",
        "1.1",
        401,
    )
    got = as_json(rec)
    assert (got["method"], got["path"], got["status"]) == ("GET", "/v1/jobs?[redacted]", 401)
    assert (got["client"], got["http_version"]) == ("127.0.0.1:5000", "1.1")
    assert "ov_x" not in json.dumps(got)


def test_a_line_logged_inside_a_span_names_its_trace() -> None:
    provider = TracerProvider()
    tracing.configure(provider)
    try:
        with provider.get_tracer("t").start_as_current_span("work") as span:
            got = as_json(record("overture.runner", "inside"))
            context = span.get_span_context()
    finally:
        tracing.configure(None)
        provider.shutdown()
    assert got["trace_id"] == format(context.trace_id, "032x")
    assert got["span_id"] == format(context.span_id, "016x")


def test_configure_formats_the_process_handler_and_leaves_others_alone(root: logging.Logger) -> None:
    stream, other = io.StringIO(), io.StringIO()
    plain = logging.StreamHandler(stream)
    capture = type("Capture", (logging.StreamHandler,), {})(other)  # a test runner's, say
    capture.setFormatter(logging.Formatter("%(message)s"))
    root.handlers[:] = [plain, capture]
    assert logs.configure("json", "info") is plain
    logging.getLogger("overture.audit").info("job_completed reason=%s", "done")
    assert json.loads(stream.getvalue())["message"] == "job_completed reason=done"
    assert other.getvalue() == "job_completed reason=done\n"  # the subclass kept its own format
    assert logging.getLogger("overture").level == logging.INFO


def test_configure_adds_a_handler_when_the_process_has_none(root: logging.Logger) -> None:
    root.handlers[:] = []
    handler = logs.configure("text")
    assert root.handlers == [handler] and isinstance(handler.formatter, logging.Formatter)
    assert handler.formatter._fmt == logs.TEXT_FORMAT


@pytest.mark.parametrize(
    ("field", "value"),
    [("log_format", "xml"), ("log_level", "loud")],
)
def test_bad_log_settings_are_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


def test_setup_applies_the_level_only_when_it_was_set(root: logging.Logger) -> None:
    from overture.observability import setup

    logging.getLogger("overture").setLevel(logging.NOTSET)
    setup(Settings(database_url="sqlite://"))
    assert logging.getLogger("overture").level == logging.NOTSET
    setup(Settings(database_url="sqlite://", log_level="debug"))
    assert logging.getLogger("overture").level == logging.DEBUG
