"""The pytest settings that keep the suite honest stay switched on: a check that cannot run must fail,
never pass or skip quietly."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("name", "value"),
    [("empty_parameter_set_mark", "fail_at_collect"), ("xfail_strict", True), ("filterwarnings", ["error"])],
)
def test_the_suite_runs_strict(pytestconfig: pytest.Config, name: str, value: object) -> None:
    assert pytestconfig.getini(name) == value


def test_markers_and_config_are_strict(pytestconfig: pytest.Config) -> None:
    assert {"--strict-markers", "--strict-config"} <= set(pytestconfig.getini("addopts"))
