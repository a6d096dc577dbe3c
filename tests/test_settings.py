"""Settings come from one table: defaults, then a TOML file, then the environment, then flags."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import SETTINGS, Settings, SettingsError


def test_defaults_come_from_the_table() -> None:
    s = Settings.defaults()
    assert (s.host, s.port, s.database, s.scenario) == ("127.0.0.1", 8080, "sqlite:///loyalty-gateway.db", "demo")
    assert all(hasattr(s, setting.name) for setting in SETTINGS)


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('[gateway]\nport = 9000\nhost = "0.0.0.0"\nlog_level = "debug"\n', encoding="utf-8")
    env = {"LOYALTY_GATEWAY_PORT": "9100", "LOYALTY_GATEWAY_ACCESS_LOG": "off"}
    s = Settings.load(flags={"port": "9200"}, environ=env, config_file=str(config))
    assert (s.port, s.host, s.log_level, s.access_log) == (9200, "0.0.0.0", "debug", False)
    s = Settings.load(environ={**env, "LOYALTY_GATEWAY_CONFIG": str(config)})
    assert s.port == 9100


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"port": "eighty"}, {}, "flag --port: invalid port"),
        ({"port": "70000"}, {}, "0 to 65535"),
        ({}, {"LOYALTY_GATEWAY_GROUP_COMMIT_MAX": "0"}, "environment variable LOYALTY_GATEWAY_GROUP_COMMIT_MAX"),
        ({"sqlite_synchronous": "off"}, {}, "expected one of full, normal, extra"),
    ],
)
def test_bad_values_name_the_setting_and_the_source(flags: dict, env: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(SettingsError, match=message):
        Settings.load(flags=flags, environ=env)


def test_a_bad_config_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = [", encoding="utf-8")
    with pytest.raises(SettingsError, match="bad.toml: not valid TOML"):
        Settings.load(config_file=str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        Settings.load(config_file=str(unknown))
    with pytest.raises(SettingsError, match="cannot read it"):
        Settings.load(config_file=str(tmp_path / "missing.toml"))
