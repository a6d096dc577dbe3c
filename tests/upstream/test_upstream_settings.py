"""The upstream settings: their defaults, and a timeout of zero refused (every upstream call would time out)."""
from __future__ import annotations

import pytest

from gateway.settings import Settings, SettingsError


def test_the_upstream_settings_default_to_ten_seconds_two_retries_a_pool_of_100_and_recorded() -> None:
    s = Settings.defaults()
    assert (s.upstream_timeout_seconds, s.upstream_read_retries, s.upstream_pool_size, s.upstream_record_dir) == (
        10.0, 2, 100, "recorded")


def test_they_come_from_the_environment_like_every_setting() -> None:
    s = Settings.load(environ={"LOYALTY_GATEWAY_UPSTREAM_TIMEOUT_SECONDS": "0.5",
                               "LOYALTY_GATEWAY_UPSTREAM_READ_RETRIES": "0",
                               "LOYALTY_GATEWAY_UPSTREAM_POOL_SIZE": "7"})
    assert (s.upstream_timeout_seconds, s.upstream_read_retries, s.upstream_pool_size) == (0.5, 0, 7)


@pytest.mark.parametrize(("flags", "message"), [
    ({"upstream_timeout_seconds": "0"}, "flag --upstream-timeout-seconds: invalid upstream_timeout_seconds '0'"),
    ({"upstream_read_retries": "-1"}, "at least 0"),
    ({"upstream_pool_size": "0"}, "at least 1"),
])
def test_a_bad_value_names_the_setting(flags: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.load(flags=flags)
