"""`serve` picks its event loop: uvloop's when installed and not turned off, asyncio's otherwise, and says
which in its start-up log. uvloop itself is an extra, so it is stood in for here by a module of the same
name (its real use is measured in bench/render_bench.py --wrk)."""
from __future__ import annotations

import asyncio
import logging
import sys
import types

import pytest

from gateway.cli import _event_loop
from gateway.settings import Settings


def _settings(**flags: str) -> Settings:
    return Settings.load(flags=flags, environ={})


@pytest.fixture
def fake_uvloop(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("uvloop")
    module.__version__ = "9.9.9"  # type: ignore[attr-defined]
    module.new_event_loop = asyncio.new_event_loop  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "uvloop", module)
    return module


def test_uvloop_is_used_when_installed(fake_uvloop: types.ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.cli"):
        assert _event_loop(_settings()) is fake_uvloop.new_event_loop  # type: ignore[attr-defined]
    assert "event loop: uvloop 9.9.9" in caplog.text


def test_the_setting_turns_it_off(fake_uvloop: types.ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.cli"):
        assert _event_loop(_settings(uvloop="false")) is None
    assert "event loop: asyncio (uvloop turned off)" in caplog.text


def test_asyncio_when_uvloop_is_not_installed(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes `import uvloop` raise ImportError
    with caplog.at_level(logging.INFO, logger="gateway.cli"):
        assert _event_loop(_settings()) is None
    assert "uvloop is not installed" in caplog.text
