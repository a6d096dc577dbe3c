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
# are hashed cheaply and creating a tenant stays fast.
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


def check_password(password: str, stored: str | None) -> bool:
    """Whether `password` is the one `stored` was made from. With no stored hash the work is done anyway
    against a dummy, so a wrong e-mail and a wrong password take the same time."""
    parts = _parts(stored) if stored else None
    cost, r, p, salt, digest = parts or (STRONG, _R, _P, b"\0" * 16, b"\0" * _LENGTH)
    got = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=cost, r=r, p=p,
                         dklen=len(digest), maxmem=_MAX_MEMORY)
    return parts is not None and hmac.compare_digest(got, digest)
