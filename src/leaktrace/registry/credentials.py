"""Passwords, API keys and browser sessions: how each is made, stored and checked.

Passwords are stored as Argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended
setting). API keys and session tokens are 256-bit random strings, so one SHA-256 of each is
enough to store: only the digest is kept, and a key is shown once, when it is made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: A session lasts this long after sign-in.
SESSION_LIFETIME = dt.timedelta(hours=8)
#: API keys look like ``lt_<prefix>_<secret>``; the prefix finds the row, the secret proves it.
KEY_PREFIX = "lt_"
#: Passwords shorter than this are refused when set.
MIN_PASSWORD = 12

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The Argon2id hash to store for ``password`` (too short: ValueError)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (constant time in the hash's own check)."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def digest(token: str) -> str:
    """The SHA-256 (hex) stored for a random token or key secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time equality of two strings."""
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class NewKey:
    """A key as made: the whole key (shown once), its public prefix and the digest to store."""

    key: str
    prefix: str
    secret_hash: str


def new_api_key() -> NewKey:
    """A new API key."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(f"{KEY_PREFIX}{prefix}_{secret}", prefix, digest(secret))


def split_api_key(key: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a key as given, or None when it is not shaped like one."""
    if not key.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = key[len(KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12 or not secret or len(secret) > 100:
        return None
    return prefix, secret


def new_token() -> str:
    """A new random token (a session's cookie or its CSRF token)."""
    return secrets.token_urlsafe(32)
