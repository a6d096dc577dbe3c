"""What the rest of the gateway knows of a dialect: one Dialect descriptor, exported as DIALECT by each
gateway/dialects/<vendor>/__init__.py and handed by app.py to the pipeline, the sandbox and the admin API.
Neutral: names no vendor, imports no dialect. A dialect's handlers never see their descriptor."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..ledger import Balance, Ledger, Member, Tenant
from .common import ErrorRenderer, ErrorTable

# authenticate(request, ledger): the tenant the credentials name; None where the route needs no credentials
# at the edge (a login route: the handler finds the tenant itself); or the refusal to answer, in the
# vendor's own shape (401, 403 ...).
Authenticate = Callable[[web.Request, Ledger], Awaitable["Tenant | web.StreamResponse | None"]]
# refuse(request, exc): the dialect's own answer to an exception its parsers raise (a bad body, a bad
# parameter), or None to let it through to the error table.
Refuse = Callable[[web.Request, Exception], "web.StreamResponse | None"]


@dataclass(frozen=True)
class RateLimitAnswer:
    """How a vendor answers once a caller is over its limit, and the window it counts in by default."""

    status: int
    message: str  # may name {limit} and {window}
    window_seconds: int = 60
    # The settings that switch the limit on at start: (limit setting, window setting or None for the default).
    settings: tuple[str, str | None] | None = None


@dataclass(frozen=True)
class Webhooks:
    """The signed webhooks a dialect sends: the outbox consumer and channel names (stored as data, keep
    their values), the tenant's configuration section they are set in, the event -> message mapping,
    where a tenant wants them, and signing/verifying."""

    section: str
    consumer: str
    channel: str
    message_for: Callable[..., Any]  # (event, original entry) -> message (.phase, .event_id, .body ...) or None
    targets: Callable[[Mapping[str, Any]], Mapping[str, str]]  # the tenant's section -> {phase: url}
    headers: Callable[..., Mapping[str, str]]  # (section, *, url, body, key, now) -> signed headers; KeyError: no secret
    verify: Callable[[str, Mapping[str, str], bytes], bool]  # (secret, received headers, body): the receiver's check
    sink: WebhookSink | None = None  # how a test's receiver (gateway.testing) subscribes a tenant and reads what came


@dataclass(frozen=True)
class WebhookSink:
    """What a receiver in an integrator's tests needs of a dialect's webhooks: the secret it checks signatures
    with, read from the tenant's credentials as POST /__admin/tenants answers them (under the dialect's name);
    the admin request that sends all of a tenant's webhooks to one URL; and the event a received body is."""

    secret: Callable[[Mapping[str, Any]], str]  # (the dialect's credentials) -> the signing secret
    subscribe: Callable[[str, str], tuple[str, str, Mapping[str, Any]]]  # (tenant, url) -> (method, admin path, body)
    event_of: Callable[[bytes], str | None]  # (received body) -> its event name ("...-confirm"), None if unreadable
    # (received body) -> a one-line summary a receiver prints (the event and what tells deliveries apart, such
    # as an idempotency key), None if unreadable; None here: the event name alone
    summary_of: Callable[[bytes], str | None] | None = None


@dataclass(frozen=True)
class UpstreamPort:
    """How the gateway serves a tenant whose points live at this vendor: its port's connect(transport,
    credentials), the credential names it takes, and the shape of the contract cases record mode writes."""

    connect: Callable[..., Any]
    credentials: tuple[str, ...]
    case_format: str


@dataclass(frozen=True)
class ScenarioPart:
    """What a scenario's tenant declares in this dialect's section (named after the dialect) and what it
    becomes: parts(section, tenant name) -> (credentials, configuration section); check(section) raises
    ValueError("<field>: <what is wrong>") for what the schema cannot say; seal(section, cost) keeps a
    secret only as its hash, so a spec can be stored; logins are credential schemes that are no dialect."""

    parts: Callable[[Mapping[str, Any], str], tuple[list[Any], dict[str, Any]]]
    check: Callable[[Mapping[str, Any]], None] | None = None
    seal: Callable[[Mapping[str, Any], int | None], Mapping[str, Any]] | None = None
    logins: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberAction:
    """One request a client of the dialect makes for a member (a credit, a debit, a card purchase), ready to
    send but for the amount: what the console's member page offers as a button. `path` and `body` hold
    `{amount}` (a decimal such as 25 or 10.50, put in by the sender) and may hold `{reference}` (a fresh
    reference the sender makes up). `admin`: the path is under /__admin (sent with the admin token), else
    it is the dialect's own API, sent with the `headers` the tenant's credentials make."""

    kind: str  # "credit" | "debit" | "purchase"
    label: str  # the button: "Debit through the Reward API (spend)"
    amount_label: str  # the amount's input: "Amount spent (currency)"
    method: str
    path: str
    headers: Mapping[str, str]
    body: str | None = None
    admin: bool = False


@dataclass(frozen=True)
class AdminExtras:
    """What the admin API shows or does in a dialect's terms (all optional)."""

    add_routes: Callable[[web.UrlDispatcher], None] | None = None  # extra /__admin/<name>/* routes
    # openapi(kit) -> {"paths", "schemas" (those routes'), "credentials", "member", "state" (schemas; state: a
    # contract case's state beyond {"scenario": "demo"}, for POST /__admin/provider-states)}; kit holds the
    # admin document's helpers, so a dialect imports nothing of the admin API
    openapi: Callable[[Any], Mapping[str, Any]] | None = None
    member_view: Callable[[Member], Mapping[str, Any]] | None = None  # a member's identities in this dialect
    credentials_view: Callable[[Mapping[str, Any], str], Mapping[str, Any]] | None = None  # (section, tenant name)
    fresh_credentials: Callable[[Mapping[str, Any], str], Mapping[str, Any]] | None = None  # copied tenant's section
    # The member's balances as the dialect's own read shows them, each field as the vendor writes it
    # ({"available_points": "30511.0"}); the schema is its openapi part's "balance"
    balance_view: Callable[[Balance], Mapping[str, str]] | None = None
    # (tenant, member) -> the requests a client of this dialect makes to credit, debit or reward the member
    # with the tenant's credentials (none where the tenant has none in this dialect)
    member_actions: Callable[[Tenant, Member], tuple[MemberAction, ...]] | None = None
    # (tenant) -> its credentials in this dialect as the store keeps them (a login's password is kept only as a
    # hash, so never shown), None when it has none here: what GET /__admin/tenants/{name}/credentials answers
    stored_credentials: Callable[[Tenant], Mapping[str, Any] | None] | None = None
    # (those credentials, the server's base URL, a member of the tenant or None) -> one ready curl command line
    # (or a short shell snippet) that calls this dialect with them: the console shows it with a copy button
    curl_example: Callable[[Mapping[str, Any], str, Member | None], str] | None = None


@dataclass(frozen=True)
class Document:
    """One contract document a dialect publishes: served at /__admin/contracts/<name>, shipped in the wheel,
    and the same schemas the dialect validates its incoming requests against."""

    name: str  # the file name it is served under: "memberpoints.openapi.json", "imonggo.xsd"
    kind: str  # "openapi" | "xsd" | "jsonschema"
    media_type: str  # "application/json", "application/xml"
    title: str  # one line for the index
    content: Callable[[], bytes]  # the document's bytes (the caller keeps them)


# check_answer(method, path with query, status, content type, body): what does not fit the dialect's documents
# in an answer, one line each ("/customer/available_points: not a decimal"); empty when it fits.
CheckAnswer = Callable[[str, str, int, str, bytes], list[str]]


@dataclass(frozen=True)
class Documents:
    documents: tuple[Document, ...]
    check_answer: CheckAnswer | None = None  # verify's shape mode and the tests hold answers to the documents
    # check_request(request): the dialect's own refusal (its error shape) of a request its documents do not
    # allow, or None to let it through; the pipeline calls it just before the handler
    check_request: Callable[[web.Request], Awaitable["web.StreamResponse | None"]] | None = None


@dataclass(frozen=True)
class ProviderState:
    """What a case's state becomes on this server (POST /__admin/provider-states): a tenant built from a
    scenario, ledger calls made on it afterwards, and the sandbox clock."""

    scenario: Any  # a scenario document, or the name of a shipped one ("demo")
    tenant: str | None = None  # which of its tenants (None: the first)
    fresh_credentials: bool = True  # the copy gets new credentials (False: the document's are new already)
    then: Callable[[Ledger, Tenant], Awaitable[None]] | None = None  # dated movements and the like
    clock: Any = None  # a datetime the sandbox clock is frozen at; None: real time


@dataclass(frozen=True)
class CaseClient:
    """How verify and diff speak to a server in this dialect: the demo's credentials by the dialect's own
    names, the ones a provider state answered, the headers a step's auth word needs (a token fetched
    through send where the dialect has one), and the rate the vendor allows."""

    defaults: Mapping[str, str]
    from_state: Callable[[Mapping[str, Any]], dict[str, str]]  # the provider-state answer -> credentials
    # authorize(credentials, auth word, send) -> headers; send(Request) -> Answer. Words: "default", "none",
    # "bogus", or the dialect's own (a narrowed scope). PermissionError(status): the server refused the credentials.
    authorize: Callable[[Mapping[str, str], str, Callable[..., Awaitable[Any]]], Awaitable[Mapping[str, str]]]
    rate: str | None = None  # "100/minute": the vendor's documented limit, verify's default
    # A cheap read-only GET path the default credentials open, tried once before a run's first case (401 or
    # 403 there: the credentials are refused); None where authorize("default") already asks the server.
    check: str | None = None
    # (credentials) -> the (user, password) pair of HTTP Basic auth, where the dialect's default credentials
    # are one: what a test hands its HTTP client as auth (gateway.testing); None where they are headers only.
    basic: Callable[[Mapping[str, str]], tuple[str, str]] | None = None


@dataclass(frozen=True)
class ContractCases:
    """How verify reads this dialect's pinned cases (fixtures/<dialect>/cases.json, and what record mode
    writes in the same format) and sets up the state a case names on a server that offers the admin API."""

    load: Callable[..., Any]  # (path to a cases.json) -> list[gateway.contracts.model.Case]
    # (case state) -> ProviderState, what POST /__admin/provider-states makes; ValueError("field: why") when bad
    provider_state: Callable[..., Any] | None = None
    client: CaseClient | None = None  # added by verify-run: credentials and auth words are the dialect's


@dataclass(frozen=True)
class TriggerArgument:
    """One value a trigger takes on the command line: a JSON field of the request's body (an option,
    `--name`), or a `{name}` of its path (a positional argument)."""

    name: str  # the option (`--card`) or the path's `{name}`
    help: str
    into: str = "body"  # "body" | "path"
    default: str | None = None  # None: the option is required
    field: str | None = None  # the body's field, when it is not `name`


@dataclass(frozen=True)
class Trigger:
    """An event `loyalty-gateway trigger DIALECT EVENT` makes happen: one documented /__admin call."""

    event: str  # the command-line word: "purchase"
    help: str
    method: str
    path: str  # under /__admin, with `{name}` for each path argument
    arguments: tuple[TriggerArgument, ...]
    webhooks: tuple[str, ...]  # the webhook events it causes when the tenant has a URL for them
    summary: Callable[[Mapping[str, Any]], str]  # the admin API's answer -> what was done, one line


@dataclass(frozen=True)
class Triggers:
    """The events a dialect lets a developer trigger from the terminal, and how to tell which webhook
    deliveries one caused."""

    events: tuple[Trigger, ...]
    webhook_settings: str | None = None  # an /__admin GET path answering the tenant's webhook URLs
    configured: Callable[[Mapping[str, Any]], frozenset[str]] | None = None  # that answer -> events with a URL
    # (the trigger's answer, one delivery as GET /__admin/webhooks/deliveries lists it) -> did the trigger cause it
    caused: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] | None = None


@dataclass(frozen=True)
class Dialect:
    name: str  # also the tenant configuration section and the journal's "dialect"
    prefixes: tuple[str, ...]  # every path this dialect answers starts with one ("/api/"), or is one less its "/"
    add_routes: Callable[[web.UrlDispatcher], None]  # mounted flat on the root router: no sub-app layer
    authenticate: Authenticate
    rate_key: Callable[[web.Request], str]  # whom an unauthenticated request is counted against
    rate_limit: RateLimitAnswer
    errors: ErrorTable
    render_error: ErrorRenderer
    messages: Mapping[int, str] = field(default_factory=dict)  # the dialect's words for 404, 405, 413 ...
    refuse: Refuse | None = None
    admin: AdminExtras = field(default_factory=AdminExtras)
    webhooks: Webhooks | None = None
    upstream: UpstreamPort | None = None  # when a tenant's points can live at this vendor
    scenario: ScenarioPart | None = None  # what a scenario's tenant declares for this dialect
    settings: tuple[Any, ...] = ()  # its gateway.settings.Setting rows (flag, env var and README row each)
    synthetic: Callable[..., Any] | None = None  # a member generator, for seeding (filled by its helper)
    documents: Documents | None = None  # its contract documents (OpenAPI, XSD), served and shipped
    cases: ContractCases | None = None  # its pinned contract cases, for verify and diff
    triggers: Triggers | None = None  # the events `loyalty-gateway trigger` makes happen through /__admin


def address_key(request: web.Request) -> str:
    """The fallback caller key: the credentials header as sent, else the client's address."""
    auth = request.headers.get("Authorization")
    return "auth:" + auth if auth else "addr:" + (request.remote or "")
