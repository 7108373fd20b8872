"""Who a leak came from: the code symbols read from its records scored against every share in the
ledger, its canaries, and how much of it each share's allocation covers.

Pure of I/O but the ledger: the caller links the leak to the master (``trace.api`` does it through
verify) and hands over one row per leaked record with its customer number and raw strings.

Soundness: an innocent share's symbols are drawn from its own key, independently of the leak,
whatever the leak is made of (another copy, the master, fabricated records, a canonicalised
column), so its false-accusation probability (FAP) is bounded by ``accuse.InnocentScore`` over
the positions it received; a share is accused only when that FAP times the number of shares
that received any of the leak's positions is ≤ epsilon (which shares those are depends on the
leak and the allocation alone, so the union bound over them holds given the leak). A canary is decisive only when two of its identifiers (resident ID, mobile,
card) appear in one record: a real person may hold one of them, hardly two. Customer-number tokens
(``trace.token``) accuse when the chance of finding as many by chance, times the shares tested,
is ≤ epsilon. The allocation ranks and explains, never accuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.stats import hypergeom

from leaktrace.trace import canary as canaries_of
from leaktrace.trace import code, variants
from leaktrace.trace.accuse import ERASED, Accusation, Received, accuse
from leaktrace.trace.ledger import Ledger, Share
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import SLOT_NUMBERS

#: Linked records whose symbols are read, at most (a keyed random sample beyond): reading an
#: address costs ~0.1 ms, and 20,000 records give every share holding 0.5% of a leak ~750
#: positions, where one leaker is accused from ~80.
DEFAULT_SAMPLE = 20_000
#: A slot written the same way in at least this many records is taken as canonicalised by the
#: leaker and erased, unless the code's biases make that agreement likely (see ``_flat_slots``).
FLAT_MIN = 8
FLAT_LIKELY = 1e-3
#: Identifiers of a canary that must appear in one record for it to be decisive.
DECISIVE_FIELDS = 2
#: The master's column of each kind the canary index matches on.
_CANARY_COLUMNS = {"resident_id": "resident_id", "mobile": "mobile", "bank_card": "card_no"}
_SLOT_KIND = {number: kind for (kind, _name), number in SLOT_NUMBERS.items()}
_KIND_SLOTS = {
    kind: [(name, SLOT_NUMBERS[(kind, name)]) for name in (s.name for s in slots)]
    for kind, slots in variants.SLOTS.items()
}


@dataclass(frozen=True)
class CanaryEvidence:
    """A canary of a share found in the leak: its number, the leak record (0-based) and the
    identifiers that matched; decisive when at least two did."""

    index: int
    record: int
    fields: tuple[str, ...]

    @property
    def decisive(self) -> bool:
        return len(self.fields) >= DECISIVE_FIELDS


@dataclass(frozen=True)
class Suspect:
    """One share's case: the code's score and bound, its canaries, its allocation's overlap with
    the leak, and the verdict."""

    share_id: str
    recipient: str
    shared_at: dt.datetime
    columns: tuple[str, ...]
    accused: bool
    reason: str | None  # "canary", "token", "code", or None when not accused
    score: float
    fap: float
    corrected_fap: float
    received: int  # the leak's observed positions this share carried a symbol at
    matched: int  # of those, where the leak's symbol is the share's
    changed_matched: int  # matched where the share's symbol differs from the master's writing
    canaries: tuple[CanaryEvidence, ...]
    tokens: int  # its customer-number tokens found in the leak
    token_fap: float  # chance of finding that many by chance (1 when none)
    overlap: int  # linked leaked customers this share received
    share_size: int
    allocation_p: float  # chance a random allocation of its size overlaps the leak as much


@dataclass(frozen=True)
class Attribution:
    """Every share scored, most suspect first, and what the reading found."""

    suspects: list[Suspect]
    epsilon: float
    shares_tested: int  # every share in the ledger
    shares_scored: int  # of them, those that received some of the leak's positions: the code's
    # Bonferroni factor (given the leak, fixed: which shares received positions depends on the
    # allocation and the leak, not on any share's symbols)
    records: int  # leak records handed in
    linked: int  # of them linked to a customer
    customers: int  # distinct linked customers
    read: int  # linked records whose symbols were read (all, or a keyed sample)
    positions: int  # distinct positions observed (not erased)
    flat_slots: tuple[str, ...]  # slots erased as canonicalised ("address.room", ...)
    canary_hits: int  # leak records carrying any canary identifier

    @property
    def accused(self) -> list[str]:
        """The accused recipients, most certain first, each once."""
        return list(dict.fromkeys(s.recipient for s in self.suspects if s.accused))


@dataclass
class _Observed:
    """The leak's positions: customer, slot number, symbol (ERASED when conflicting or flat)
    and the master's own writing there (-1 when unknown or neither)."""

    customer: NDArray[np.int64]
    slot: NDArray[np.int64]
    symbol: NDArray[np.int8]
    natural: NDArray[np.int8]


def _raw(records: pl.DataFrame, kind: str) -> list[str | None]:
    return records[kind].cast(pl.String).to_list() if kind in records.columns else []


def _read_positions(
    records: pl.DataFrame, kinds: Sequence[str], master: pl.DataFrame | None
) -> _Observed:
    """Every (customer, slot) a record's raw strings show, with its symbol; the slots offered by
    the master's value of that customer when the master is given, else by the leak's value."""
    customers = records["customer"].to_list()
    own: dict[str, dict[int, str]] = {}
    if master is not None:
        wanted = master.filter(pl.col("customer").is_in(records["customer"].unique().implode()))
        for kind in kinds:
            if kind in wanted.columns:
                own[kind] = dict(
                    zip(
                        wanted["customer"].to_list(),
                        wanted[kind].cast(pl.String).to_list(),
                        strict=True,
                    )
                )
    cust: list[int] = []
    slot: list[int] = []
    sym: list[int] = []
    nat: list[int] = []
    for kind in kinds:
        values = _raw(records, kind)
        mine = own.get(kind)
        for c, raw in zip(customers, values, strict=True):
            if not raw:
                continue
            base = mine.get(c) if mine is not None else raw
            if not base:
                continue
            offered = variants.slots(kind, base)
            if not offered:
                continue
            seen = variants.read(kind, raw)
            natural = variants.read(kind, base) if mine is not None else {}
            for name, number in _KIND_SLOTS[kind]:
                if name in offered:
                    cust.append(c)
                    slot.append(number)
                    s = seen.get(name)
                    sym.append(ERASED if s is None else s)
                    n = natural.get(name)
                    nat.append(-1 if n is None else n)
    frame = pl.DataFrame(
        {"customer": cust, "slot": slot, "symbol": sym, "natural": nat},
        schema={"customer": pl.Int64, "slot": pl.Int64, "symbol": pl.Int8, "natural": pl.Int8},
    )
    # A customer's record seen twice: one symbol if they agree, an erasure if they do not.
    frame = frame.group_by("customer", "slot").agg(
        pl.when(pl.col("symbol").filter(pl.col("symbol") != ERASED).n_unique() == 1)
        .then(pl.col("symbol").filter(pl.col("symbol") != ERASED).first())
        .otherwise(pl.lit(ERASED, pl.Int8))
        .alias("symbol"),
        pl.col("natural").first(),
    )
    frame = frame.sort("customer", "slot")
    return _Observed(
        frame["customer"].to_numpy(),
        frame["slot"].to_numpy(),
        frame["symbol"].to_numpy().astype(np.int8),
        frame["natural"].to_numpy().astype(np.int8),
    )


def _flat_slots(obs: _Observed, p: NDArray[np.float64]) -> list[int]:
    """Slots written one way in every record that shows them, where a marked copy would rarely
    be (chance below FLAT_LIKELY): the leaker canonicalised that writing; erased in place."""
    flat = []
    for number in np.unique(obs.slot):
        at = (obs.slot == number) & (obs.symbol != ERASED)
        if at.sum() < FLAT_MIN:
            continue
        values = np.unique(obs.symbol[at])
        if values.size != 1:
            continue
        q = p[at] if values[0] == 1 else 1 - p[at]
        if float(np.exp(np.log(q).sum())) < FLAT_LIKELY:
            obs.symbol[obs.slot == number] = ERASED
            flat.append(int(number))
    return flat


def _sample(records: pl.DataFrame, seed: bytes, limit: int) -> pl.DataFrame:
    """The linked records, or a random sample of ``limit`` of them drawn with a keyed seed (a
    leaker cannot know which records are read)."""
    linked = records.filter(pl.col("customer").is_not_null())
    if linked.height <= limit:
        return linked
    rng = np.random.default_rng(int.from_bytes(seed, "big"))
    return linked[np.sort(rng.choice(linked.height, size=limit, replace=False))]


def _canaries(
    records: pl.DataFrame, shares: Sequence[Share], key: bytes
) -> dict[str, list[CanaryEvidence]]:
    """Each share's canaries found in the leak, from the ledger and the key alone."""
    planted = [
        canaries_of.PlantedShare(s.id, s.shared_at.date(), s.canaries) for s in shares if s.canaries
    ]
    columns = {k: c for k, c in _CANARY_COLUMNS.items() if k in records.columns}
    if not planted or not columns:
        return {}
    leak = records.select(pl.col(k).cast(pl.String).alias(c) for k, c in columns.items())
    hits = canaries_of.CanaryIndex.regenerate(key, planted).hits(leak)
    found: dict[str, list[CanaryEvidence]] = {}
    for (share, index, row), group in hits.group_by("share", "index", "row", maintain_order=True):
        fields = tuple(sorted(group["field"].to_list()))
        found.setdefault(str(share), []).append(CanaryEvidence(int(index), int(row), fields))
    return found


def _member(values: NDArray[np.int64], sorted_set: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which ``values`` are in ``sorted_set`` (sorted, distinct): a binary search each."""
    if not sorted_set.size:
        return np.zeros(values.shape, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), sorted_set.size - 1)
    return sorted_set[at] == values


def _common(a: NDArray[np.int64], b: NDArray[np.int64]) -> int:
    """How many values two sorted distinct arrays share (searching the larger)."""
    small, large = (a, b) if a.size <= b.size else (b, a)
    return int(_member(small, large).sum())


def _kinds(share: Share, roles: Mapping[str, str]) -> set[str]:
    """The variant kinds a share's columns carried marks in."""
    return {roles[c] for c in share.columns if roles.get(c) in variants.SLOTS}


def attribute(
    records: pl.DataFrame,
    ledger: Ledger,
    secret: Secret,
    roles: Mapping[str, str],
    epsilon: float = 1e-6,
    *,
    master: pl.DataFrame | None = None,
    master_size: int | None = None,
    sample: int = DEFAULT_SAMPLE,
    tokens: Mapping[str, tuple[int, float]] | None = None,
) -> Attribution:
    """Score every share in ``ledger`` against the leak ``records`` (column ``customer``, Int64,
    null when not linked, and the raw strings as leaked in columns named by kind:
    resident_id, mobile, bank_card, address, ...). ``roles`` maps the master's columns to
    kinds, telling which marks each share's columns carried; ``master`` (column ``customer``
    and the kinds' columns) tells which slots each customer's value offers and its own writing
    (else the leak's values are used); ``master_size`` (customers in the master) gives the
    allocation's chance level; ``tokens`` the customer-number tokens found per share id (count,
    chance of as many by chance)."""
    if "customer" not in records.columns:
        raise ValueError("records need a customer column (null where not linked)")
    if not 0 < epsilon < 1:
        raise ValueError("epsilon must lie in (0, 1)")
    records = records.with_columns(pl.col("customer").cast(pl.Int64))
    key = secret.derive("code")
    shares = ledger.shares()
    kinds = [k for k in variants.SLOTS if k in records.columns]
    picked = _sample(records, secret.derive("trace sample"), sample)
    obs = _read_positions(picked, kinds, master)
    positions = code.position_ids(obs.customer, obs.slot)
    p = code.bias(key, positions)
    flat = _flat_slots(obs, p)
    seen = obs.symbol != ERASED
    cust, slot, y, nat = obs.customer[seen], obs.slot[seen], obs.symbol[seen], obs.natural[seen]
    positions, p = positions[seen], p[seen]
    leaked = np.unique(records["customer"].drop_nulls().to_numpy().astype(np.int64))
    found_canaries = _canaries(records, shares, secret.derive("canary"))

    received: dict[str, Received] = {}
    overlaps: dict[str, tuple[int, int]] = {}
    known, which = np.unique(cust, return_inverse=True)
    slot_sets: dict[frozenset[str], NDArray[np.bool_]] = {}
    allocation = ledger.every_share_customers()
    for s in shares:
        members = allocation[s.id]
        overlaps[s.id] = (_common(members, leaked), s.customer_count)
        carried = frozenset(_kinds(s, roles))
        if carried not in slot_sets:
            slot_sets[carried] = np.isin(slot, [n for n, k in _SLOT_KIND.items() if k in carried])
        where = np.flatnonzero(_member(known, members)[which] & slot_sets[carried])
        received[s.id] = Received(code.symbols(key, s.id, positions[where]), where)
    # a share that received none of the leak's positions has no case: score 0, FAP 1
    scored = {k: r for k, r in received.items() if r.where is not None and r.where.size}
    cases = {s.id: Accusation(s.id, 0.0, 1.0, 1.0, False, 0, int(y.size)) for s in shares}
    if scored:
        cases |= {a.recipient: a for a in accuse(y, p, scored, epsilon, tested=len(scored))}

    universe = master_size or (master.height if master is not None else None)
    suspects = []
    for s in shares:
        a = cases[s.id]
        where = received[s.id].where
        x = received[s.id].symbols.astype(np.int8)
        hit = y[where] == x
        changed = hit & (nat[where] >= 0) & (nat[where] != x)
        canaries = tuple(found_canaries.get(s.id, ()))
        decisive = any(c.decisive for c in canaries)
        overlap, size = overlaps[s.id]
        allocation_p = (
            float(hypergeom.sf(overlap - 1, universe, size, leaked.size))
            if universe and overlap
            else 1.0
        )
        found_tokens, token_fap = (tokens or {}).get(s.id, (0, 1.0))
        by_token = found_tokens > 0 and token_fap * max(len(shares), 1) <= epsilon
        reason = "canary" if decisive else "token" if by_token else "code" if a.accused else None
        suspects.append(
            Suspect(
                share_id=s.id,
                recipient=s.recipient,
                shared_at=s.shared_at,
                columns=s.columns,
                accused=reason is not None,
                reason=reason,
                score=a.score,
                fap=a.fap,
                corrected_fap=a.corrected_fap,
                received=int(where.size),
                matched=int(hit.sum()),
                changed_matched=int(changed.sum()),
                canaries=canaries,
                tokens=found_tokens,
                token_fap=token_fap,
                overlap=overlap,
                share_size=size,
                allocation_p=allocation_p,
            )
        )
    suspects.sort(
        key=lambda s: (
            not s.accused,
            s.reason not in ("canary", "token"),
            min(s.corrected_fap, s.token_fap * len(shares)),
            s.fap,
            -len(s.canaries),
            s.allocation_p,
            -s.overlap,
        )
    )
    return Attribution(
        suspects=suspects,
        epsilon=epsilon,
        shares_tested=len(shares),
        shares_scored=len(scored),
        records=records.height,
        linked=int(records["customer"].is_not_null().sum()),
        customers=int(leaked.size),
        read=picked.height,
        positions=int(y.size),
        flat_slots=tuple(
            f"{_SLOT_KIND[n]}.{name}" for (_k, name), n in SLOT_NUMBERS.items() if n in flat
        ),
        canary_hits=sum(len({c.record for c in v}) for v in found_canaries.values()),
    )
