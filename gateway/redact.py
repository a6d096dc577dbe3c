"""Secrets masked before anything keeps or prints them: the Token API's `password`, an OAuth client's
`client_secret`, the tokens the gateway hands out (`access_token`, `api_token`), and an upstream's
`api_key`. The request journal masks them in query strings and in request and response bodies (JSON,
form-encoded, XML); every log line the server writes about a request (the access log, a malformed
request's INFO line) goes through `redact_line`. Keys are compared decoded (`pass%77ord=`,
`"pass\\u0077ord":`), so spelling one oddly does not get a secret past. `mask` hides known secret values
(credentials) in any text, in every spelling. Neutral: used by the sandbox, the upstream clients and verify's
reports, so it lives in no package of theirs."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

SECRET_KEYS = frozenset({"password", "client_secret", "access_token", "api_token", "api_key"})
MASK = "[FILTERED]"
# How a secret key can appear in a body: as itself (any case, `-` for `_`), or behind an escape (`\u0077`,
# `%77`). A body with none of these holds no secret and is kept without looking further.
_SPELLINGS = tuple(sorted(SECRET_KEYS | {k.replace("_", "-") for k in SECRET_KEYS})) + ("\\", "%")

# A parameter in a log line: the key follows `?`, `&` or `;`. Its value runs to the next parameter, or to
# what ends a quoted request line (` HTTP/1.1`, a closing quote): a password with a space in it, which only
# a malformed request line can carry, is masked whole.
_PARAM_IN_LINE = re.compile(r"(?<=[?&;])([^=&;?\s]*)=(.*?)(?=[&;]|\s+[A-Z]+/\d|['\"](?:\s|$)|$)")
# A JSON member: a key, then a string (its closing quote optional, so a cut or broken body is masked to
# its end) or a bare scalar. An object or array value is not a secret; its own members are looked at.
# (Strings are matched as runs of plain characters between escapes: one step per character costs ten times
# as much on a journaled body.)
_JSON_MEMBER = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"(\s*:\s*)("[^"\\]*(?:\\.[^"\\]*)*"?|[-+.\w]+)')
# An XML element's text (CDATA included), up to the next tag; unterminated text is masked to the end.
_XML_ELEMENT = re.compile(r"<([\w.:-]+)(\s[^<>]*)?>((?:<!\[CDATA\[.*?(?:\]\]>|$)|[^<])*)", re.DOTALL)


def _is_secret(key: str) -> bool:
    return key.strip().lower().replace("-", "_") in SECRET_KEYS


def redact_query(query: str) -> str:
    """`email=a@b.c&password=s3cret` -> `email=a@b.c&password=[FILTERED]`; anything else unchanged."""
    if "=" not in query:
        return query
    parts = re.split(r"([&;])", query)
    for i in range(0, len(parts), 2):
        key, eq, _ = parts[i].partition("=")
        if eq and _is_secret(unquote_plus(key)):
            parts[i] = f"{key}={MASK}"
    return "".join(parts)


def redact_line(line: str) -> str:
    """A log line with the secrets of every query string in it masked (a request line, quoted or not)."""
    if "=" not in line:
        return line
    return _PARAM_IN_LINE.sub(lambda m: f"{m[1]}={MASK}" if _is_secret(unquote_plus(m[1])) else m[0], line)


def _json_key(quoted: str) -> str:
    if "\\" not in quoted:  # most keys: nothing to decode
        return quoted
    try:
        key = json.loads(f'"{quoted}"')
    except ValueError:
        return quoted
    return key if isinstance(key, str) else quoted


def _redact_json(text: str) -> str:
    def member(m: re.Match[str]) -> str:
        if not _is_secret(_json_key(m[1])):
            return m[0]
        return f'"{m[1]}"{m[2]}"{MASK}"'

    return _JSON_MEMBER.sub(member, text)


def _redact_xml(text: str) -> str:
    return _XML_ELEMENT.sub(
        lambda m: f"<{m[1]}{m[2] or ''}>{MASK}" if _is_secret(m[1].rpartition(":")[2]) and m[3] else m[0], text
    )


def redact_body(data: bytes, content_type: str = "") -> bytes:
    """A request or response body with its secrets masked, everything else byte for byte as it was. The
    format is the content type's; a body of another or no type is taken by its first character (a client
    may send JSON as text/plain), form-encoded when it is neither JSON nor XML."""
    if not data:
        return data
    text = data.decode("utf-8", "surrogateescape")  # undecodable bytes come back out unchanged
    lowered = text.lower()
    if not any(spelling in lowered for spelling in _SPELLINGS):
        return data
    kind = content_type.lower()
    first = text.lstrip()[:1]
    if "json" in kind or (not ("xml" in kind or "form" in kind) and first in ("{", "[")):
        cleaned = _redact_json(text)
    elif "xml" in kind or first == "<":
        cleaned = _redact_xml(text)
    else:
        cleaned = redact_query(text)
    return data if cleaned == text else cleaned.encode("utf-8", "surrogateescape")


class RedactQueries(logging.Filter):
    """Masks secrets in the query strings of a log line (aiohttp's access log prints the request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_line(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def access_logger(name: str = "aiohttp.access") -> logging.Logger:
    """The access logger with the redacting filter on it (added once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactQueries) for f in logger.filters):
        logger.addFilter(RedactQueries())
    return logger


@lru_cache(maxsize=512)
def secret_pattern(secrets: tuple[str, ...]) -> tuple[re.Pattern[str], int] | None:
    r"""One pattern for every spelling of the secrets a text may hold, and the longest spelling's length:
    as they are, JSON-escaped (a `"` or `\` in a client_secret, `\/` as some encoders write `/`, `\uXXXX`
    for non-ASCII) and URL-encoded. Longest first, so a spelling is never half replaced by a shorter one."""
    spellings: set[str] = set()
    for secret in secrets:
        if secret:
            escaped = json.dumps(secret)[1:-1]
            spellings.update((secret, escaped, json.dumps(secret, ensure_ascii=False)[1:-1],
                              escaped.replace("/", "\\/"), quote(secret, safe=""), quote_plus(secret)))
    if not spellings:
        return None
    ordered = sorted(spellings, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))), len(ordered[0])


def mask(text: str, secrets: Sequence[str], cap: int | None = None) -> str:
    """`text` with every spelling of every secret replaced by [FILTERED]; with `cap`, cut at that many
    characters AFTER masking, so a secret that straddles the cut is masked whole, never half kept."""
    masker = secret_pattern(tuple(secrets)) if secrets else None
    if masker is None:
        return text if cap is None else text[:cap]
    pattern = masker[0]
    if cap is None or len(text) <= cap:
        return pattern.sub(MASK, text)
    kept: list[str] = []
    at = 0
    for found in pattern.finditer(text):
        if found.start() >= cap:
            break
        kept += (text[at:found.start()], MASK)
        at = found.end()
    kept.append(text[at:max(at, cap)])
    return "".join(kept)


def shown_url(url: str) -> str:
    """A URL fit for a log or a message (a database URL, most often): a password in it is masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))
