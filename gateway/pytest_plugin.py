"""The pytest plugin the package ships (entry point pytest11 "loyalty_gateway"): the loyalty_gateway and
loyalty_tenant fixtures, the --loyalty-gateway-database option and the loyalty_scenario marker, and the
undoing, after every test, of the fault rules and clock moves it made. Importing it costs nothing: the server
and its modules load when a test first asks for one of the fixtures."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .testing import LoyaltyGateway, LoyaltyTenant

MARKER = "loyalty_scenario"
SCHEMES = ("sqlite", "postgresql", "postgres")
RUNNING = pytest.StashKey["LoyaltyGateway"]()  # the session's server, while it runs
SINCE = pytest.StashKey["tuple[int, int]"]()  # its changes as the running test found them


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loyalty-gateway", "loyalty-gateway sandbox (the loyalty_gateway fixture)")
    group.addoption(
        "--loyalty-gateway-database", metavar="URL", default=None,
        help="database of the in-process sandbox server: postgresql://user@host:port/name (an existing, empty"
             " database) or sqlite:////absolute/path.db; default: SQLite in a temporary directory",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario, tenant=None): the loyalty_tenant fixture copies this scenario's tenant instead of the"
        ' demo\'s: "demo", a scenario document (a dict) or a scenario file (JSON or TOML, relative to the test'
        " file); tenant= names one of its tenants (default: the first)",
    )
    url = config.getoption("loyalty_gateway_database", None)
    if url is not None and url.partition("://")[0] not in SCHEMES:
        raise pytest.UsageError(f"--loyalty-gateway-database {url!r}: give a URL starting with postgresql:// or sqlite:///")


@pytest.fixture(scope="session")
def loyalty_gateway(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoyaltyGateway]:
    """An in-process loyalty-gateway server for the test session (each xdist worker has its own)."""
    from .testing import LoyaltyGateway

    url = pytestconfig.getoption("loyalty_gateway_database") or (
        f"sqlite:///{tmp_path_factory.mktemp('loyalty-gateway') / 'gateway.db'}")
    gateway = LoyaltyGateway(url)
    try:
        gateway.start()
    except Exception as exc:  # noqa: BLE001 - whatever stops the server is said in one line
        from .redact import shown_url  # here, not at the top: the plugin imports nothing until it is used
        pytest.fail(f"loyalty_gateway: the sandbox server did not start on {shown_url(url)}: {exc}", pytrace=False)
    pytestconfig.stash[RUNNING] = gateway
    try:
        yield gateway
    finally:
        del pytestconfig.stash[RUNNING]
        gateway.stop()


# Fault rules and clock moves a test makes through the helpers (a `with` block or not, with a tenant or
# not) are undone once its teardown is over, so the next test finds the server as the session started it.
# A fixture wider than a test (module, session ...) keeps what its setup changed. Without a running
# server each hook is one lookup.

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    gateway = item.config.stash.get(RUNNING, None)
    item.config.stash[SINCE] = gateway.changes.mark() if gateway is not None else (0, 0)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Iterator[Any]:
    made = yield
    gateway = request.config.stash.get(RUNNING, None)
    if gateway is not None and fixturedef.scope != "function":
        request.config.stash[SINCE] = gateway.changes.mark()  # wider fixtures are set up before a test's own
    return made


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        gateway = item.config.stash.get(RUNNING, None)  # gone after the session's last test
        since = item.config.stash.get(SINCE, (0, 0))
        if gateway is not None and gateway.changes.mark() != since:
            gateway.undo(since)


@pytest.fixture
def loyalty_tenant(loyalty_gateway: LoyaltyGateway, request: pytest.FixtureRequest) -> Iterator[LoyaltyTenant]:
    """A fresh tenant for this test (the demo's, or the loyalty_scenario marker's), deleted after it."""
    from .testing import AdminError

    scenario, tenant = _marked(request)
    try:
        made = loyalty_gateway.new_tenant(scenario, tenant, relative_to=request.path.parent)
    except (AdminError, TypeError, ValueError) as exc:
        pytest.fail(f"loyalty_tenant: cannot make the tenant of {_described(scenario, tenant)}: {exc}", pytrace=False)
    try:
        yield made
    finally:
        loyalty_gateway.forget(made)


def _marked(request: pytest.FixtureRequest) -> tuple[Any, str | None]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return "demo", None
    unknown = sorted(set(marker.kwargs) - {"scenario", "tenant"})
    given = list(marker.args) + ([marker.kwargs["scenario"]] if "scenario" in marker.kwargs else [])
    tenant = marker.kwargs.get("tenant")
    if unknown or len(given) != 1 or not (tenant is None or isinstance(tenant, str)):
        why = (f"unknown argument(s) {', '.join(unknown)}" if unknown else
               "tenant= must be a tenant's name" if len(given) == 1 else f"give one scenario, not {len(given)}")
        pytest.fail(f"@pytest.mark.{MARKER}: {why}; use {MARKER}(scenario, tenant=None) with scenario \"demo\", a"
                    " scenario document (a dict) or a scenario file", pytrace=False)
    return given[0], tenant


def _described(scenario: Any, tenant: str | None) -> str:
    what = "the scenario document" if isinstance(scenario, Mapping) else f"scenario {str(scenario)!r}"
    return what + (f" (tenant {tenant!r})" if tenant else "")

