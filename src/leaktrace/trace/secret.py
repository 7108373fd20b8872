"""The marking secret: read from a file or the environment, never from the command line.

``LEAKTRACE_SECRET_FILE`` names a file holding the secret, or ``LEAKTRACE_SECRET`` holds it; in
both it is written in hex or base64 and decodes to at least :data:`MIN_BYTES` bytes (e.g.
``openssl rand -hex 32``). The secret itself is never shown: the ledger and every message name it
by its key id, a keyed hash of it. Each use (the code, the canaries) gets its own key derived by
HMAC-SHA256, so that no two uses ever share key material.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
from collections.abc import Mapping
from hashlib import sha256
from pathlib import Path

from leaktrace.errors import InputError, Verbatim
from leaktrace.i18n import N_

FILE_ENV = "LEAKTRACE_SECRET_FILE"
VALUE_ENV = "LEAKTRACE_SECRET"
#: The shortest secret accepted, in bytes (256 bits).
MIN_BYTES = 32
#: Hex digits of the key id shown in the ledger (64 bits: ids of two secrets never meet).
KEY_ID_CHARS = 16
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_EXPECTED = N_("a secret of at least {n} bytes written in hex or base64")


class Secret:
    """The marking secret; its repr and str show the key id only."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_BYTES:
            raise ValueError(f"the secret must be at least {MIN_BYTES} bytes")
        self._key = key

    @property
    def key_id(self) -> str:
        """A keyed hash of the secret naming it in the ledger: equal for equal secrets, and
        telling nothing about the secret."""
        return self.derive("key id").hex()[:KEY_ID_CHARS]

    def derive(self, use: str) -> bytes:
        """A 32-byte key for one use of the secret (HMAC-SHA256 of the use's name)."""
        return hmac.new(self._key, b"leaktrace.trace.secret\x00" + use.encode(), sha256).digest()

    def __repr__(self) -> str:
        return f"Secret(key_id={self.key_id!r})"

    __str__ = __repr__


def decode(text: str, place: str) -> Secret:
    """The secret written in ``text`` (hex, else base64; whitespace ignored); an InputError naming
    ``place``, never the text, when it is unusable."""
    written = "".join(text.split())
    if _HEX.fullmatch(written):
        key = bytes.fromhex(written)
    else:
        try:
            key = base64.b64decode(written, validate=True)
        except ValueError:  # binascii.Error, or characters beyond ASCII
            raise InputError(
                place, _EXPECTED, N_("text that is neither hex nor base64"), n=MIN_BYTES
            ) from None
    if len(key) < MIN_BYTES:
        raise InputError(place, _EXPECTED, N_("{size} bytes"), n=MIN_BYTES, size=len(key))
    return Secret(key)


def load(env: Mapping[str, str] | None = None) -> Secret:
    """The secret from the file ``LEAKTRACE_SECRET_FILE`` names or from ``LEAKTRACE_SECRET``;
    a clear InputError when neither or both are set, or the secret is unusable."""
    env = os.environ if env is None else env
    path, value = env.get(FILE_ENV, "").strip(), env.get(VALUE_ENV, "").strip()
    if bool(path) == bool(value):
        raise InputError(
            f"{FILE_ENV} / {VALUE_ENV}",
            N_("exactly one of them set: a file holding the marking secret, or the secret"),
            N_("both set") if path else N_("neither set"),
        )
    if value:
        return decode(value, VALUE_ENV)
    try:
        text = Path(path).read_bytes().decode("ascii")
    except UnicodeDecodeError:
        raise InputError(path, _EXPECTED, N_("binary data"), n=MIN_BYTES) from None
    except OSError as e:
        raise InputError(
            path, N_("a readable file holding the marking secret"), Verbatim(e.strerror or "")
        ) from None
    return decode(text, path)
