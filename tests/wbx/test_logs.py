"""Logs as JSON lines carry the event's id, source and stage, so one event can be followed."""

from __future__ import annotations

import json
import logging

import pytest

from wbx.logs import LogSettings, configure_logging


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_event_context(restore_logging, capsys):
    configure_logging(logging.INFO, LogSettings(format="json"))
    logging.getLogger("consumers.pipeline").info(
        "quarantined (%s)", "bad_signature",
        extra={"event_id": "e-1", "source": "urn:wbx:agency:RS-BP", "stage": "verify"},
    )  # fmt: skip
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "quarantined (bad_signature)"
    assert (line["event_id"], line["source"], line["stage"]) == (
        "e-1",
        "urn:wbx:agency:RS-BP",
        "verify",
    )
    assert line["level"] == "INFO" and line["logger"] == "consumers.pipeline"
    assert line["time"].endswith("+00:00")


def test_a_line_without_context_has_none_and_exceptions_are_kept(restore_logging, capsys):
    configure_logging(logging.INFO, LogSettings(format="json"))
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert "event_id" not in line and "ValueError: boom" in line["exception"]


def test_text_is_the_default(restore_logging, capsys, monkeypatch):
    monkeypatch.delenv("WBX_LOG_FORMAT", raising=False)
    configure_logging(logging.INFO)
    logging.getLogger("x").warning("plain")
    assert capsys.readouterr().err.strip().endswith("WARNING x: plain")


def test_an_unknown_format_is_refused(monkeypatch):
    monkeypatch.setenv("WBX_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="'text' or 'json'"):
        LogSettings()
