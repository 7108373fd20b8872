"""A keyed binary Tardos code: per-position biases and per-share symbols, derived, never stored.

A position is one binary symbol of one customer's record (a (customer, slot) pair, see
``position_ids``); a slot with k > 2 variants is carried as several binary positions. The bias of a
position follows the arcsine density cut off at ``cutoff`` (the symmetric Tardos code); a share's
symbol there is 1 with that probability. Both are drawn from the secret key alone, so the ledger
only needs the share id and the positions, and anyone without the key can predict neither.

Pseudo-randomness: HMAC-SHA256 of the key derives one AES-256 key for the biases and one per share;
AES of the 128-bit block (position, 0) is a keyed pseudo-random function of the position (what
AES-CTR computes for each counter), so millions of positions are one C call on a packed array
rather than a Python loop of keyed hashes.
"""

from __future__ import annotations

import hmac
from hashlib import sha256

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numpy.typing import ArrayLike, NDArray

#: Cut-off of the arcsine density: 1/(300c) for coalitions of up to c = 3 (Tardos, Škorić et al.).
DEFAULT_CUTOFF = 1 / 900
#: The shortest secret accepted, in bytes.
MIN_KEY_BYTES = 16
#: Bits of a position id given to the slot; the customer number takes the remaining 56.
SLOT_BITS = 8


def position_ids(customers: ArrayLike, slots: ArrayLike) -> NDArray[np.uint64]:
    """Pack customer numbers (0 ≤ c < 2⁵⁶) and slot numbers (0 ≤ s < 256) into position ids."""
    c = np.asarray(customers, dtype=np.int64)
    s = np.asarray(slots, dtype=np.int64)
    if c.size and (c.min() < 0 or c.max() >= 1 << (64 - SLOT_BITS)):
        raise ValueError("customer numbers must lie in [0, 2**56)")
    if s.size and (s.min() < 0 or s.max() >= 1 << SLOT_BITS):
        raise ValueError("slot numbers must lie in [0, 256)")
    return (c.astype(np.uint64) << np.uint64(SLOT_BITS)) | s.astype(np.uint64)


def _subkey(key: bytes, label: bytes) -> bytes:
    """An AES-256 key for one use of the secret (the biases, or one share's symbols)."""
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the secret key must be at least {MIN_KEY_BYTES} bytes")
    return hmac.new(key, b"leaktrace.trace.code\x00" + label, sha256).digest()


def _uniforms(subkey: bytes, positions: ArrayLike) -> NDArray[np.float64]:
    """One uniform in (0, 1) per position: 53 bits of AES_subkey(position ‖ 0)."""
    pos = np.asarray(positions)
    if pos.dtype.kind not in "iu" or (pos.dtype.kind == "i" and pos.size and pos.min() < 0):
        raise ValueError("positions must be non-negative integers")
    blocks = np.zeros((pos.size, 2), dtype="<u8")
    blocks[:, 0] = pos.reshape(-1)
    encryptor = Cipher(algorithms.AES(subkey), modes.ECB()).encryptor()
    words = np.frombuffer(encryptor.update(blocks.tobytes()) + encryptor.finalize(), dtype="<u8")
    bits = words[0::2] >> np.uint64(11)
    return ((bits.astype(np.float64) + 0.5) * 2.0**-53).reshape(pos.shape)


def _check_cutoff(cutoff: float) -> None:
    if not 0.0 < cutoff < 0.5:
        raise ValueError("the cut-off must lie in (0, 0.5)")


def arcsine_quantile(u: ArrayLike, cutoff: float = DEFAULT_CUTOFF) -> NDArray[np.float64]:
    """Inverse CDF of the arcsine density 1/(π√(p(1-p))) restricted to [cutoff, 1-cutoff]."""
    _check_cutoff(cutoff)
    r = np.arcsin(np.sqrt(cutoff))
    return np.sin(r + np.asarray(u, dtype=np.float64) * (np.pi / 2 - 2 * r)) ** 2


def arcsine_cdf(p: ArrayLike, cutoff: float = DEFAULT_CUTOFF) -> NDArray[np.float64]:
    """CDF of the cut-off arcsine density (for testing the biases against it)."""
    _check_cutoff(cutoff)
    r = np.arcsin(np.sqrt(cutoff))
    q = np.clip(np.asarray(p, dtype=np.float64), cutoff, 1 - cutoff)
    return (np.arcsin(np.sqrt(q)) - r) / (np.pi / 2 - 2 * r)


def bias(key: bytes, position: ArrayLike, cutoff: float = DEFAULT_CUTOFF) -> NDArray[np.float64]:
    """The bias p_j of each position: the chance a share carries symbol 1 there."""
    return arcsine_quantile(_uniforms(_subkey(key, b"bias"), position), cutoff)


def symbols(
    key: bytes, share: str, positions: ArrayLike, cutoff: float = DEFAULT_CUTOFF
) -> NDArray[np.bool_]:
    """The symbols share ``share`` carries at ``positions``: 1 with probability bias(position)."""
    if not share:
        raise ValueError("the share id must not be empty")
    draws = _uniforms(_subkey(key, b"share\x00" + share.encode("utf-8")), positions)
    return draws < bias(key, positions, cutoff)
