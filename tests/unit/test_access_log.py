"""The access line: one JSON object per request, as structlog's renderer writes it."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import orjson
import structlog
from structlog.testing import capture_logs

from slotbook import logs
from slotbook.logs import AccessLog

FIELDS = {"request_id": "r1", "method": "POST", "path": "/v1/holds", "status": 201}


def test_a_configured_access_log_writes_one_json_line_per_request() -> None:
    out = io.BytesIO()
    access = AccessLog()
    access.out = out
    access.write(**FIELDS, duration_ms=1.25)
    access.write(**FIELDS | {"status": 409}, duration_ms=2.5)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first = orjson.loads(lines[0])
    assert list(first) == [*FIELDS, "duration_ms", "event", "level", "timestamp"]
    assert first | {"timestamp": None} == FIELDS | {
        "duration_ms": 1.25,
        "event": "request",
        "level": "info",
        "timestamp": None,
    }
    assert first["timestamp"].endswith("Z")
    written = datetime.fromisoformat(first["timestamp"])
    assert abs(datetime.now(UTC) - written) < timedelta(minutes=1)
    assert orjson.loads(lines[1])["status"] == 409


def test_a_level_above_info_writes_no_access_line() -> None:
    out = io.BytesIO()
    access = AccessLog()
    access.out, access.enabled = out, False
    access.write(**FIELDS, duration_ms=1.0)
    assert out.getvalue() == b""


def test_before_logging_is_configured_the_line_goes_through_structlog() -> None:
    with capture_logs() as logs:
        AccessLog().write(**FIELDS, duration_ms=1.0)
    assert logs == [FIELDS | {"duration_ms": 1.0, "event": "request", "log_level": "info"}]


def test_configured_logging_leaves_uvicorn_no_access_logger_to_call() -> None:
    """uvicorn calls its access logger per response whenever a handler is found up its
    chain; the service writes its own access line, so none may be found."""
    root, access = logging.getLogger(), logs.ACCESS_LOG
    saved = (root.handlers[:], root.level, access.out, access.enabled, structlog.get_config())
    try:
        logs.configure_logging("INFO")
        assert not logging.getLogger("uvicorn.access").hasHandlers()
        assert logging.getLogger("uvicorn.error").hasHandlers()
    finally:  # the process's logging as it was, for the tests after this one
        root.handlers[:], access.out, access.enabled = saved[0], saved[2], saved[3]
        root.setLevel(saved[1])
        structlog.configure(**saved[4])
