"""Salted scrypt hashes for the logins a tenant declares, and their check. A password is never stored,
returned or compared in clear; the hash names its own parameters, so old hashes stay checkable."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

SCHEME = "scrypt"
STRONG = 2**14  # for passwords people chose (scenario files): costly to guess offline
# A password generated from 128 random bits cannot be guessed whatever the cost, so generated ones
# are hashed cheaply and creating a tenant stays fast (a login still pays the strong cost: check_password).
GENERATED = 2**10
_R, _P, _LENGTH = 8, 1, 32
# A stored hash (a scenario may bring its own) must be checkable: OpenSSL refuses a scrypt whose memory,
# 128*r*(N+2) + 128*r*p bytes, exceeds maxmem or whose N reaches 2**(16*r) (the login would be a 500);
# N*r*p is the time a check takes.
_MAX_MEMORY = 256 * 1024 * 1024
_MAX_WORK = 16 * STRONG * _R * _P  # sixteen strong checks, about a second


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, cost: int = STRONG) -> str:
    """`scrypt$N$r$p$salt$hash`, with a fresh 16-byte salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=cost, r=_R, p=_P, dklen=_LENGTH)
    return f"{SCHEME}${cost}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def is_password_hash(text: str) -> bool:
    return _parts(text) is not None


def _parts(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    fields = stored.split("$")
    if len(fields) != 6 or fields[0] != SCHEME or not all(f.isascii() and f.isdigit() for f in fields[1:4]):
        return None
    cost, r, p = (int(f) for f in fields[1:4])
    if cost < 2 or cost & (cost - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        return None
    if 128 * r * (cost + 2 + p) > _MAX_MEMORY or cost * r * p > _MAX_WORK or cost >= 2 ** (16 * r):
        return None
    try:
        salt, digest = base64.b64decode(fields[4], validate=True), base64.b64decode(fields[5], validate=True)
    except (binascii.Error, ValueError):
        return None
    return (cost, r, p, salt, digest) if salt and len(digest) >= 16 else None


def _scrypt(secret: bytes, salt: bytes, cost: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(secret, salt=salt, n=cost, r=r, p=p, dklen=length, maxmem=_MAX_MEMORY)


def check_password(password: str, stored: str | None) -> bool:
    """Whether `password` is the one `stored` was made from. Every check does at least the work of one at
    the STRONG cost, so a miss takes as long whatever it missed on (within a sixteenth, a generated hash's
    work): with no stored hash (an unknown e-mail) that work is done against a dummy, and a cheaper hash
    (a generated password's) is followed by the same dummy. Only a scenario's own dearer hash (up to
    _MAX_WORK) makes its user's checks slower."""
    secret = password.encode("utf-8", "surrogatepass")
    parts = _parts(stored) if stored else None
    matches = False
    if parts is not None:
        cost, r, p, salt, digest = parts
        matches = hmac.compare_digest(_scrypt(secret, salt, cost, r, p, len(digest)), digest)
    if parts is None or parts[0] * parts[1] * parts[2] < STRONG * _R * _P:
        _scrypt(secret, b"\0" * 16, STRONG, _R, _P, _LENGTH)
    return matches
