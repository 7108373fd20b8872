"""The keyed customer-number token: a share that carries the master's customer number column
carries, in its place, a number derived from the secret, the share id and the customer.

A token is a plain number of ``digits`` digits (as many as the master's longest customer number,
at least :data:`MIN_DIGITS`; never a leading zero), so the copy looks like an ordinary export and
the recipient can still quote a customer back by it. It is AES-256 of the 128-bit block
(customer, attempt) under a key derived by HMAC-SHA256 for the share (a keyed pseudo-random
function, as in :mod:`leaktrace.trace.code`), reduced to the token range; a token equal to one of
the master's real customer numbers is drawn again with the next attempt, so a copy of the master
never holds a token. Nothing is stored: the ledger's share id and customers rebuild every token.

:class:`TokenIndex` holds the tokens of many shares as sorted uint64 arrays; :func:`find` reads
every cell of a leak as ``scan`` opens it and returns the tokens found, where, and how likely
each share's hits are by chance.
"""

from __future__ import annotations

import hmac
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

import numpy as np
import polars as pl
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numpy.typing import ArrayLike, NDArray

from leaktrace.errors import InputError
from leaktrace.ingest.expand import Container, expand, expected_text
from leaktrace.ingest.source import Problem
from leaktrace.ingest.spool import Spool
from leaktrace.trace.code import MIN_KEY_BYTES
from leaktrace.trace.ledger import MAX_CUSTOMER, Ledger, canary_numbers

#: The fewest digits a token has (a chance match of one cell is then below 1.2·10⁻¹²).
MIN_DIGITS = 12
#: The most digits a token can have (the range must fit in 64 bits).
MAX_DIGITS = 19
_EMPTY = np.zeros(0, dtype=np.uint64)


def token_digits(customers: ArrayLike) -> int:
    """The tokens' width for a master with these customer numbers: as many digits as its
    longest number, at least :data:`MIN_DIGITS`."""
    c = np.asarray(customers, dtype=np.int64)
    longest = len(str(int(c.max()))) if c.size else 0
    return max(MIN_DIGITS, longest)


def _range(digits: int) -> tuple[int, int]:
    """The first token of ``digits`` digits and how many there are."""
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"tokens have {MIN_DIGITS} to {MAX_DIGITS} digits")
    return 10 ** (digits - 1), 9 * 10 ** (digits - 1)


def chance_per_value(digits: int, taken: int = 0) -> float:
    """An upper bound on the chance that one token equals a given number it was not derived
    from: the reduction of 64 bits to the range, and the redraws that skip ``taken`` numbers."""
    _first, size = _range(digits)
    q = math.ceil(2.0**64 / size) / 2.0**64
    return q / (1.0 - taken * q)


def _share_key(key: bytes, share_id: str) -> bytes:
    """The AES-256 key of one share's tokens."""
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the secret key must be at least {MIN_KEY_BYTES} bytes")
    if not share_id:
        raise ValueError("the share id must not be empty")
    return hmac.new(key, b"leaktrace.trace.token\x00" + share_id.encode(), sha256).digest()


def _draw(
    subkey: bytes, customers: NDArray[np.uint64], attempts: NDArray[np.uint64], digits: int
) -> NDArray[np.uint64]:
    """One token per (customer, attempt): AES_subkey(customer ‖ attempt) reduced to the range."""
    first, size = _range(digits)
    blocks = np.empty((customers.size, 2), dtype="<u8")
    blocks[:, 0], blocks[:, 1] = customers, attempts
    encryptor = Cipher(algorithms.AES(subkey), modes.ECB()).encryptor()
    words = np.frombuffer(encryptor.update(blocks.tobytes()) + encryptor.finalize(), dtype="<u8")
    return words[0::2] % np.uint64(size) + np.uint64(first)


def token_values(
    key: bytes,
    share_id: str,
    customers: ArrayLike,
    digits: int = MIN_DIGITS,
    taken: ArrayLike = (),
) -> NDArray[np.uint64]:
    """The tokens of ``customers`` in share ``share_id``, as numbers; none equals a number of
    ``taken`` (the master's customer numbers)."""
    return _values(key, share_id, customers, digits, _sorted(taken))


def _sorted(taken: ArrayLike) -> NDArray[np.uint64]:
    """Numbers to avoid, sorted once for every share's draws (a sort: numpy's unique hashes,
    several times slower on millions of numbers)."""
    a = np.sort(np.asarray(taken, dtype=np.int64).reshape(-1)).astype(np.uint64)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if a.size else a


def _values(
    key: bytes, share_id: str, customers: ArrayLike, digits: int, avoid: NDArray[np.uint64]
) -> NDArray[np.uint64]:
    """:func:`token_values` with the numbers to avoid already sorted."""
    c = np.asarray(customers, dtype=np.int64).reshape(-1)
    if c.size and (c.min() < 0 or c.max() > MAX_CUSTOMER):
        raise ValueError("customer numbers must lie in [0, 2**56)")
    subkey = _share_key(key, share_id)
    numbers = c.astype(np.uint64)
    attempts = np.zeros(c.size, dtype=np.uint64)
    values = _draw(subkey, numbers, attempts, digits)
    while avoid.size:
        at = np.searchsorted(avoid, values).clip(max=avoid.size - 1)
        again = np.flatnonzero(avoid[at] == values)
        if not again.size:
            break
        attempts[again] += np.uint64(1)
        values[again] = _draw(subkey, numbers[again], attempts[again], digits)
    return values


def tokens(
    key: bytes,
    share_id: str,
    customers: ArrayLike,
    digits: int = MIN_DIGITS,
    taken: ArrayLike = (),
) -> list[str]:
    """The tokens of ``customers`` in share ``share_id`` as written in a copy: ``digits`` digits,
    the same for the same (share, customer), never one of ``taken``."""
    return [str(v) for v in token_values(key, share_id, customers, digits, taken).tolist()]


@dataclass(frozen=True)
class TokenIndex:
    """Every token of the shares that carried them, sorted: ``values[i]`` is the token of
    customer ``customers[i]`` in share ``share_ids[shares[i]]``. A value two (share, customer)
    pairs drew alike names neither and is left out (``ambiguous`` counts them)."""

    share_ids: tuple[str, ...]
    sizes: NDArray[np.int64]  # tokens each share carried
    values: NDArray[np.uint64]
    shares: NDArray[np.uint32]
    customers: NDArray[np.int64]
    digits: int
    taken: int  # real customer numbers the tokens were drawn to avoid
    ambiguous: int

    @classmethod
    def build(
        cls,
        key: bytes,
        shares: Iterable[tuple[str, ArrayLike]],
        digits: int,
        taken: ArrayLike = (),
    ) -> TokenIndex:
        """The index of ``shares`` ((share id, its customers with its canaries' numbers)) for
        tokens of ``digits`` digits drawn to avoid ``taken`` (see :func:`token_values`)."""
        avoid = _sorted(taken)
        ids, sizes, values, owners, numbers = [], [], [], [], []
        for i, (share_id, customers) in enumerate(shares):
            c = np.asarray(customers, dtype=np.int64).reshape(-1)
            ids.append(share_id)
            sizes.append(c.size)
            values.append(_values(key, share_id, c, digits, avoid))
            owners.append(np.full(c.size, i, dtype=np.uint32))
            numbers.append(c)
        v = np.concatenate(values) if values else _EMPTY
        order = np.argsort(v, kind="stable")
        v = v[order]
        alike = np.zeros(v.size, dtype=bool)
        if v.size > 1:
            same = v[1:] == v[:-1]
            alike[1:] |= same
            alike[:-1] |= same
        keep = order[~alike]
        return cls(
            share_ids=tuple(ids),
            sizes=np.asarray(sizes, dtype=np.int64),
            values=v[~alike],
            shares=np.concatenate(owners)[keep] if owners else np.zeros(0, dtype=np.uint32),
            customers=np.concatenate(numbers)[keep] if numbers else np.zeros(0, dtype=np.int64),
            digits=digits,
            taken=int(avoid.size),
            ambiguous=int(alike.sum()),
        )

    @classmethod
    def from_ledger(
        cls,
        ledger: Ledger,
        key: bytes,
        customer_column: str,
        master_customers: ArrayLike,
    ) -> TokenIndex:
        """The index of every share in ``ledger`` whose columns held ``customer_column``, with
        its canaries (numbered down from 2⁵⁶ - 1, as ``share`` numbers them), for a master
        with ``master_customers``; ``key`` is ``Secret.derive("token")``."""
        taken = np.asarray(master_customers, dtype=np.int64)
        carried = [s for s in ledger.shares() if customer_column in s.columns]
        allocation = ledger.every_share_customers() if carried else {}
        return cls.build(
            key,
            (
                (s.id, np.concatenate([allocation[s.id], canary_numbers(len(s.canaries))]))
                for s in carried
            ),
            token_digits(taken),
            taken,
        )

    def lookup(self, values: ArrayLike) -> NDArray[np.int64]:
        """The index entry of each value, or -1 where no share carried it as a token."""
        v = np.asarray(values, dtype=np.uint64)
        at = np.searchsorted(self.values, v)
        found = at < self.values.size
        found[found] = self.values[at[found]] == v[found]
        return np.where(found, at, -1)


@dataclass
class TokenHits:
    """The tokens found in a leak: ``hits`` (share, customer, source, table, row, column: the
    place as ``scan`` names it), ``shares`` (per share that had hits: tokens found, the number
    expected by chance and an upper bound on the chance of that many hits by chance), the
    numbers of ``digits`` digits read (``values_read``, ``distinct_values``) and the chance
    that one read number equals one given token (``chance_per_value``, ≈ 10⁻digits)."""

    hits: pl.DataFrame
    shares: pl.DataFrame
    digits: int
    values_read: int
    distinct_values: int
    chance_per_value: float
    problems: list[Problem] = field(default_factory=list)


_HITS_SCHEMA = {
    "share": pl.String,
    "customer": pl.Int64,
    "source": pl.String,
    "table": pl.String,
    "row": pl.Int64,
    "column": pl.String,
}


def chance_of_hits(found: int, expected: float) -> float:
    """An upper bound on the chance of ``found`` distinct chance matches when ``expected`` are
    expected: the expected number of ``found``-sets of matches, λᵏ/k!, capped at 1."""
    if found == 0:
        return 1.0
    if expected <= 0:
        return 0.0
    return min(1.0, math.exp(found * math.log(expected) - math.lgamma(found + 1)))


def find(
    leak: Sequence[str | Path],
    index: TokenIndex,
    password: str | None = None,
) -> TokenHits:
    """Every token of ``index`` in the cells of ``leak`` (files, folders and archives opened as
    ``scan`` opens them; ``password`` or LEAKTRACE_PASSWORD for encrypted members), with where
    each was found and, per share, how likely its hits are by chance."""
    paths = [Path(p) for p in leak]
    if password is None:
        password = os.environ.get("LEAKTRACE_PASSWORD") or None
    hits: list[pl.DataFrame] = []
    read: list[NDArray[np.uint64]] = []
    problems: list[Problem] = []
    containers: list[Container] = []
    with Spool() as spool:
        sources = expand(paths, spool, password)
        try:
            for src in sources:
                if isinstance(src, Container):
                    containers.append(src)
                    continue
                try:
                    for batch in src.batches():
                        cells = _numbers(pl.from_arrow(batch.data), batch.first_row, index.digits)
                        values = cells["value"].to_numpy().astype(np.uint64)
                        read.append(values)
                        at = index.lookup(values)
                        got = at >= 0
                        if got.any():
                            hits.append(
                                _hits(index, at[got], cells.filter(got), src.name, batch.table)
                            )
                except InputError as e:  # a damaged member: the others are still read
                    if not src.inside:
                        raise
                    problems.append(Problem(src.name, expected_text(e), kind="unreadable"))
                problems += src.problems
        finally:
            sources.close()
    for container in containers:
        problems += container.problems
    frame = (
        pl.concat(hits).unique(maintain_order=True) if hits else pl.DataFrame(schema=_HITS_SCHEMA)
    )
    all_read = np.concatenate(read) if read else _EMPTY
    distinct = int(_sorted(all_read).size)
    q = chance_per_value(index.digits, index.taken)
    return TokenHits(
        hits=frame,
        shares=_per_share(frame, index, distinct, q),
        digits=index.digits,
        values_read=int(all_read.size),
        distinct_values=distinct,
        chance_per_value=q,
        problems=problems,
    )


def _numbers(frame: pl.DataFrame, first_row: int, digits: int) -> pl.DataFrame:
    """Each whole run of ``digits`` digits in the cells of ``frame``: row (numbered from
    ``first_row`` as ``scan`` numbers them), column and value."""
    if frame.width == 0 or frame.height == 0:
        return pl.DataFrame(schema={"row": pl.Int64, "column": pl.String, "value": pl.UInt64})
    return (
        frame.with_row_index("row")
        .select(
            (pl.col("row").cast(pl.Int64) + first_row).alias("row"),
            *(pl.col(c).cast(pl.String) for c in frame.columns),
        )
        .unpivot(index="row", variable_name="column", value_name="cell")
        .filter(pl.col("cell").str.contains(rf"\d{{{digits}}}"))
        .select("row", "column", pl.col("cell").str.extract_all(r"\d+").alias("value"))
        .explode("value")
        .filter(pl.col("value").str.len_bytes() == digits)
        .with_columns(pl.col("value").cast(pl.UInt64))
    )


def _hits(
    index: TokenIndex, at: NDArray[np.int64], cells: pl.DataFrame, source: str, table: str
) -> pl.DataFrame:
    """The hits of one batch: the index entries ``at`` of the values in ``cells``."""
    return pl.DataFrame(
        {
            "share": [index.share_ids[i] for i in index.shares[at].tolist()],
            "customer": index.customers[at],
            "source": source,
            "table": table,
            "row": cells["row"],
            "column": cells["column"],
        },
        schema=_HITS_SCHEMA,
    )


def _per_share(hits: pl.DataFrame, index: TokenIndex, distinct: int, q: float) -> pl.DataFrame:
    """Per share with hits: distinct tokens found, the number expected by chance among the
    ``distinct`` values read, and the bound on the chance of finding that many."""
    found = hits.group_by("share").agg(
        pl.col("customer").n_unique().cast(pl.Int64).alias("tokens_found")
    )
    sizes = dict(zip(index.share_ids, index.sizes.tolist(), strict=True))
    expected = [distinct * sizes[s] * q for s in found["share"].to_list()]
    bounds = [chance_of_hits(k, e) for k, e in zip(found["tokens_found"], expected, strict=True)]
    return found.with_columns(
        pl.Series("expected_by_chance", expected, dtype=pl.Float64),
        pl.Series("false_hit_probability", bounds, dtype=pl.Float64),
    ).sort("tokens_found", "share", descending=[True, False])
