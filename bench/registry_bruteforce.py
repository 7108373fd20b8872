"""What a thief of the registry's database can do with it: guess identifiers and compare. The
harness takes candidate mobiles (the leak's among them), computes what an unkeyed scheme would
have stored for each (MD5, SHA-1, SHA-256, SHA-512 of the value and of the OPRF input, raw and
truncated to a tag, and the unkeyed HashToGroup element) and counts the candidates whose guess
is a stored tag. Given the key, the same harness evaluates each candidate and finds every one:
the database alone is what protects nothing, the key is what matters.

``python -m bench.registry_bruteforce --candidates 1000000`` runs it at the issue's size.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable, Iterable

import numpy as np

from leaktrace.registry import oprf
from leaktrace.registry.identifiers import TAG_BYTES, oprf_input

#: Mobile prefixes the candidates are drawn under (segments in use).
PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "186", "188")
_DIGESTS = ("md5", "sha1", "sha256", "sha512")


def candidate_mobiles(n: int, include: Iterable[str], seed: int = 0) -> list[str]:
    """``n`` distinct mobiles: ``include`` first, then random ones under :data:`PREFIXES`."""
    out = list(dict.fromkeys(include))
    seen = set(out)
    rng = np.random.default_rng(seed)
    while len(out) < n:
        prefixes = rng.choice(PREFIXES, n)
        tails = rng.integers(0, 10**8, n)
        for p, t in zip(prefixes, tails, strict=True):
            value = f"{p}{t:08d}"
            if value not in seen:
                seen.add(value)
                out.append(value)
                if len(out) == n:
                    break
    return out


def unkeyed_guesses(value: str) -> list[bytes]:
    """What a store without a key could have kept for ``value``, each cut to a tag's length."""
    guesses = []
    for message in (value.encode(), oprf_input("mobile", value)):
        for name in _DIGESTS:
            guesses.append(hashlib.new(name, message).digest()[:TAG_BYTES])
    guesses.append(oprf.hash_to_group(oprf_input("mobile", value))[:TAG_BYTES])
    return guesses


def keyed_guess(key: bytes) -> Callable[[str], list[bytes]]:
    """The guess of whoever holds the key: the candidate's OPRF output, cut to a tag."""
    return lambda value: [oprf.evaluate(key, oprf_input("mobile", value))[:TAG_BYTES]]


def recovered(
    tags: set[bytes], candidates: Iterable[str], guess: Callable[[str], list[bytes]]
) -> set[str]:
    """The candidates one of whose guesses is among ``tags``."""
    return {c for c in candidates if any(g in tags for g in guess(c))}


def main() -> None:
    """Times the harness on random tags (as a database of ``--tags`` keyed values would hold)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--candidates", type=int, default=1_000_000)
    p.add_argument("--tags", type=int, default=100_000)
    args = p.parse_args()
    key = oprf.random_scalar()
    leaked = candidate_mobiles(args.tags, [], seed=1)
    tags = {oprf.evaluate(key, oprf_input("mobile", v))[:TAG_BYTES] for v in leaked}
    candidates = candidate_mobiles(args.candidates, leaked[:1000], seed=2)
    present = set(candidates) & set(leaked)  # the 1000 given, and any drawn by chance
    for name, guess in (("database only", unkeyed_guesses), ("with the key", keyed_guess(key))):
        t0 = time.perf_counter()
        found = recovered(tags, candidates, guess)
        print(f"{name}: {len(found & present)} of the {len(present)} leaked mobiles among "
              f"{len(candidates)} candidates recovered ({len(found - present)} wrong) in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
