"""Checks an incoming request against the OpenAPI 3.1 document a dialect publishes: path, query and header
parameters (coerced from their text per the schema's type) and the body (JSON or form, JSON Schema 2020-12
with the document's $refs resolved), each read the way the document says the handler reads it (extension
keywords below). Neutral: names no vendor; the dialect renders the problems its way."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
from aiohttp import web
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .common import BodyError, parse_json, parsed_json

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOCUMENT_URI = "urn:loyalty-gateway:document"  # where the document sits in the registry its $refs resolve in
_INTEGER = re.compile(r"[+-]?[0-9]+")
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
# Extension keywords a document uses to say how its server reads a request, so the check reads it the same way:
STRIP = "x-strip-spaces"  # on a parameter: spaces around its text are no part of the value
BLANK_IS_ABSENT = "x-blank-is-absent"  # on a parameter: a blank value is read as none sent
OTHER_MEDIA_AS = "x-read-other-media-as"  # on a request body: a body of a media type not listed is read as this one


def _is_integer(checker: Any, instance: Any) -> bool:
    """JSON Schema's integer is any number with no fraction: bodies are read with Decimals (never floats), so a
    whole Decimal (8, 8.0, 8E+1) is one."""
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return bool(jsonschema.Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer"))


def _is_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, Decimal):
        return instance.is_finite()
    return bool(jsonschema.Draft202012Validator.TYPE_CHECKER.is_type(instance, "number"))


MOST_QUOTIENT_DIGITS = 1000  # a number this many digits past its multipleOf step is refused, not divided


def _multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterable[jsonschema.ValidationError]:
    """JSON Schema's multipleOf, exact for a Decimal of any size: jsonschema's own divides in the context's 28
    digits, which a large number (1E+100 against a step of 1) overflows into an exception (a 500)."""
    if not isinstance(instance, Decimal):
        yield from jsonschema.Draft202012Validator.VALIDATORS["multipleOf"](validator, step, instance, schema)
        return
    if not instance.is_finite():
        return  # not a number: the type keyword says so
    factor = Decimal(str(step))
    digits = instance.adjusted() - factor.adjusted() + 3
    if digits > MOST_QUOTIENT_DIGITS:
        yield jsonschema.ValidationError(f"{instance} is too large to be a multiple of {step}")
        return
    with localcontext() as context:
        context.prec = max(context.prec, digits)
        if instance % factor != 0:
            yield jsonschema.ValidationError(f"{instance} is not a multiple of {step}")


Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    validators={"multipleOf": _multiple_of},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}),
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing the document does not allow: where ("path", "query", "header", "body"), which parameter or
    body path ("" for the body itself), and what is wrong, in words a client can act on."""

    location: str
    name: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location} {self.name}" if self.name else self.location
        return f"{where}: {self.message}"


def anchored(schema: Any) -> Any:
    """A copy of `schema` whose local $refs ("#/components/...") point into the registered document, so a
    validator rooted at the sub-schema still finds them."""
    if isinstance(schema, dict):
        return {k: (DOCUMENT_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else anchored(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [anchored(v) for v in schema]
    return schema


class Schemas:
    """Validators for sub-schemas of one document, compiled once each, with the document's $refs resolved."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.registry = Registry().with_resource(DOCUMENT_URI, Resource(contents=document, specification=DRAFT202012))

    def validator(self, schema: Any) -> jsonschema.protocols.Validator:
        return Validator(anchored(schema), registry=self.registry)  # type: ignore[no-any-return]

    def resolve(self, node: Any) -> Any:
        """`node` with a local $ref (a parameter, a request body, a response) followed until it is none."""
        seen = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            node = self.pointer(node["$ref"])
            seen += 1
            if seen > 32:
                raise ValueError("a $ref cycle")
        return node

    def pointer(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node


def problems_of(validator: jsonschema.protocols.Validator, instance: Any, location: str,
                name: str = "") -> list[Problem]:
    """The validator's errors as problems, the body's errors named by their JSON path ("/amount"). A
    missing property is named itself ("/price": "is required"). A schema may say in words what it demands
    with the extension keyword x-problem (a phrase, or a phrase per keyword: {"pattern": "must be ..."}),
    which then replaces the validator's message."""
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        where = name or "".join(f"/{p}" for p in error.absolute_path)
        message = error.message
        if error.validator == "required" and isinstance(error.instance, Mapping):
            missing = next((k for k in error.validator_value if k not in error.instance), None)
            if missing is not None:
                where, message = (name + "/" if name else where + "/") + str(missing), "is required"
        said = error.schema.get("x-problem") if isinstance(error.schema, Mapping) else None
        if isinstance(said, Mapping):
            said = said.get(str(error.validator))
        found.append(Problem(location, where, said if isinstance(said, str) else message))
    return found


@dataclass(frozen=True, slots=True)
class _Parameter:
    location: str  # path | query | header
    name: str
    required: bool
    kind: str | None  # the schema's type when it is one coercible type, else None (the text is kept)
    array_of: str | None  # the items' type, when kind is "array"
    explode: bool
    validator: jsonschema.protocols.Validator | None
    strip: bool  # spaces around the text are stripped before it is read (STRIP)
    blank_is_absent: bool  # a blank text is taken as the parameter not sent (BLANK_IS_ABSENT)
    type_problem: str | None  # the schema's x-problem for a text that is not of its type


@dataclass(frozen=True, slots=True)
class _Body:
    required: bool
    media: Mapping[str, jsonschema.protocols.Validator | None]  # media type -> validator (None: any content)
    form_kinds: Mapping[str, tuple[str | None, str | None]]  # a form body's field -> (kind, array_of)
    other_media_as: str | None = None  # a listed media type bodies of any other are read as (OTHER_MEDIA_AS)


@dataclass(frozen=True, slots=True)
class _Operation:
    parameters: tuple[_Parameter, ...]
    body: _Body | None


def _type_of(schema: Any) -> str | None:
    """The one JSON type a parameter's text is coerced to; None when it stays text (string, enum of
    strings, or more than one type)."""
    if not isinstance(schema, Mapping):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind in ("integer", "number", "boolean", "array", "object"):
        return kind
    return None


def _coerce(text: str, kind: str | None) -> Any:
    """The value `text` stands for as a `kind`; raises ValueError when it stands for none."""
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError("must be an integer")
        return int(text)
    if kind == "number":
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not value.is_finite():
            raise ValueError("must be a number")
        return int(value) if _INTEGER.fullmatch(text) else value
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("must be true or false")
        return text == "true"
    return text


class RequestSchema:
    """The checks of every operation of one OpenAPI 3.1 document, prepared at construction.

    check(request) -> list[Problem]: for a request aiohttp matched to a route whose path template
    (`resource.canonical`, the server's path prefix included) and method the document describes:
      - each required path, query or header parameter is present; each present one, coerced from its text
        to the schema's type (integer, number as Decimal, boolean "true"/"false", arrays repeated or
        comma-separated), fits its schema;
      - a body, when the operation describes one, is of a listed media type (none sent: the first listed),
        parses (JSON with decimals as Decimal; a form as fields) and fits that media type's schema; a
        missing required body is a problem.
    A parameter marked x-strip-spaces is read without the spaces around it, one marked x-blank-is-absent as
    not sent when blank, and a schema's x-problem (or its "type" entry) words a text not of its type; a body
    whose media type is not listed is read as the request body's x-read-other-media-as says (the handler
    reads it so), else refused. JSON numbers are Decimals: a whole one is an integer.
    Unknown routes and operations without anything to check cost one dictionary lookup and give no
    problems. Unknown query parameters are allowed (OpenAPI cannot forbid them). Formats are annotations.
    The body is read only for operations that describe one (aiohttp keeps it for the handler)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.schemas = Schemas(document)
        prefix = server_prefix(document)
        self.operations: dict[tuple[str, str], _Operation] = {}
        for template, item in (document.get("paths") or {}).items():
            item = self.schemas.resolve(item)
            shared = item.get("parameters", ())
            for method in HTTP_METHODS:
                if method in item:
                    operation = self._prepare(shared, item[method])
                    if operation is not None:
                        self.operations[(method.upper(), prefix + template)] = operation

    def _prepare(self, shared: Iterable[Any], operation: Mapping[str, Any]) -> _Operation | None:
        by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
        for parameter in (*shared, *operation.get("parameters", ())):  # an operation's own overrides the path's
            parameter = self.schemas.resolve(parameter)
            if parameter.get("in") in ("path", "query", "header"):
                by_key[(parameter["in"], parameter["name"])] = parameter
        parameters = tuple(self._parameter(p) for p in by_key.values())
        body = self._body(operation["requestBody"]) if "requestBody" in operation else None
        return _Operation(parameters, body) if parameters or body else None

    def _parameter(self, parameter: Mapping[str, Any]) -> _Parameter:
        schema = self.schemas.resolve(parameter.get("schema"))
        kind = _type_of(schema)
        array_of = _type_of(self.schemas.resolve(schema.get("items"))) if kind == "array" else None
        location = parameter["in"]
        name = parameter["name"].lower() if location == "header" else parameter["name"]
        said = schema.get("x-problem") if isinstance(schema, Mapping) else None
        if isinstance(said, Mapping):
            said = said.get("type")
        return _Parameter(location, name, bool(parameter.get("required")) or location == "path", kind, array_of,
                          parameter.get("explode", parameter.get("style", "form") == "form"),
                          self.schemas.validator(schema) if schema is not None else None,
                          parameter.get(STRIP) is True, parameter.get(BLANK_IS_ABSENT) is True,
                          said if isinstance(said, str) else None)

    def _body(self, body: Mapping[str, Any]) -> _Body:
        body = self.schemas.resolve(body)
        media: dict[str, jsonschema.protocols.Validator | None] = {}
        form_kinds: dict[str, tuple[str | None, str | None]] = {}
        for media_type, content in (body.get("content") or {}).items():
            schema = content.get("schema")
            media[media_type.lower()] = self.schemas.validator(schema) if schema is not None else None
            if media_type.lower() == _FORM and schema is not None:
                resolved = self.schemas.resolve(schema)
                for field, sub in (resolved.get("properties") or {}).items():
                    sub = self.schemas.resolve(sub)
                    kind = _type_of(sub)
                    items = _type_of(self.schemas.resolve(sub.get("items"))) if kind == "array" else None
                    form_kinds[field] = (kind, items)
        other = body.get(OTHER_MEDIA_AS)
        return _Body(bool(body.get("required")), media, form_kinds,
                     other.lower() if isinstance(other, str) and other.lower() in media else None)

    async def check(self, request: web.Request) -> list[Problem]:
        resource = request.match_info.route.resource
        if resource is None:
            return []
        operation = self.operations.get((request.method, resource.canonical))
        if operation is None:
            return []
        problems = self._check_parameters(operation, request)
        if operation.body is not None:
            body = await request.read() if request.body_exists else b""
            problems += self.check_body(operation.body, request.headers.get("Content-Type"), body,
                                        parse=lambda raw: parsed_json(request, raw))
        return problems

    def _check_parameters(self, operation: _Operation, request: web.Request) -> list[Problem]:
        problems: list[Problem] = []
        for p in operation.parameters:
            source: Any = (request.match_info if p.location == "path"
                           else request.query if p.location == "query" else request.headers)
            text = source.get(p.name)
            if text is not None and p.strip:
                text = text.strip()
            if text is None or (p.blank_is_absent and not text.strip()):
                if p.required:
                    problems.append(Problem(p.location, p.name, "is required"))
                continue
            try:
                if p.kind == "array":
                    texts = source.getall(p.name) if p.explode and p.location == "query" else text.split(",")
                    value: Any = [_coerce(t.strip() if p.strip else t, p.array_of) for t in texts]
                else:
                    value = _coerce(text, p.kind)
            except ValueError as exc:
                problems.append(Problem(p.location, p.name, p.type_problem or str(exc)))
                continue
            if p.validator is not None:
                problems += problems_of(p.validator, value, p.location, p.name)
        return problems

    def check_body(self, body: _Body, content_type: str | None, raw: bytes,
                   parse: Callable[[bytes], Any] = parse_json) -> list[Problem]:
        if not raw:
            return [Problem("body", "", "is required")] if body.required else []
        media_type = (content_type or next(iter(body.media), "")).split(";")[0].strip().lower()
        if media_type not in body.media and body.other_media_as is not None:
            media_type = body.other_media_as
        if media_type not in body.media:
            return [Problem("header", "content-type", f"must be one of {', '.join(body.media)}, not {media_type or 'none'}")]
        validator = body.media[media_type]
        if media_type == _FORM:
            try:
                instance: Any = self._form(body, raw.decode())
            except (UnicodeDecodeError, ValueError) as exc:
                return [Problem("body", "", f"is not a form: {exc}")]
        elif media_type == _JSON or media_type.endswith("+json"):
            try:
                instance = parse(raw)  # decimals as Decimal, no NaN, nesting bounded: as the handlers read it
            except BodyError as exc:
                return [Problem("body", "", str(exc))]
        else:
            return []  # a media type this module cannot parse: the handler's to judge
        return problems_of(validator, instance, "body") if validator is not None else []

    @staticmethod
    def _form(body: _Body, text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key, value in parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)):
            kind, items = body.form_kinds.get(key, (None, None))
            if kind == "array":
                fields.setdefault(key, []).append(_coerce(value, items))
            else:
                fields[key] = _coerce(value, kind)
        return fields


def server_prefix(document: Mapping[str, Any]) -> str:
    """The path the first server's URL adds before every template ("" for "/" or an absolute root)."""
    servers = document.get("servers") or [{"url": "/"}]
    url = str(servers[0].get("url", "/"))
    path = re.sub(r"^[a-z]+://[^/]*", "", url)
    return path.rstrip("/")
