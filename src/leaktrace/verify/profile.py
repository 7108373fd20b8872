"""The leaktrace linkage profile: canonical columns, derived blocking keys and the comparisons
for Chinese personal records (resident ID, mobile and card, possibly masked; name; birth date;
address; email). Expressions are DuckDB SQL, transpiled for other engines like the rest.
"""

from __future__ import annotations

from leaktrace.verify.sql import Block, Comparison, Spec

# Canonical value columns, on the leak and on the master.
VALUES = ("person_name", "resident_id", "mobile", "bank_card", "address", "email", "birth")
# Fields whose earlier values the history table may hold.
HISTORICAL = ("mobile", "address", "email")
# Digits only: levenshtein is safe here (ASCII). Visible digits agree: '*' in the leak value
# stands for any one character. Only a value with a '*' can agree this way and not in full
# (identifiers hold no other LIKE wildcard), so the per-row pattern is only built for those.
MASKED = "{l} LIKE '%*%' AND {m} LIKE replace({l}, '*', '_')"


def gated(test: str, then: str) -> str:
    """``test AND then``, with ``then`` worked out only where the cheap ``test`` holds: DuckDB
    computes both sides of an AND on every row, a CASE's result only where its test holds."""
    return f"CASE WHEN {test} THEN {then} ELSE false END"


# One edit apart: the edit leaves either the first half of the shorter value or the rest of
# it as it was, a cheap test that spares most pairs the edit distance.
_SHORTER = "least(length({l}), length({m}))"
_HALF = f"CAST(floor({_SHORTER} / 2) AS INTEGER)"
_REST = f"{_SHORTER} - {_HALF}"
ONE_EDIT = gated(
    f"abs(length({{l}}) - length({{m}})) <= 1 AND "
    f"(substr({{l}}, 1, {_HALF}) = substr({{m}}, 1, {_HALF}) OR "
    f"right({{l}}, {_REST}) = right({{m}}, {_REST}))",
    "levenshtein({l}, {m}) <= 1",
)


def transposed(lv: str = "{l}", mv: str = "{m}", n: int = 18) -> str:
    """Two neighbouring characters swapped, the rest the same, for values of ``n`` characters
    (digits). Spelled out position by position, as no engine but DuckDB has a Damerau
    distance; only pairs two plain edits apart that keep one half reach the probes."""
    probes = " OR ".join(
        f"(substr({lv}, {i}, 1) = substr({mv}, {i + 1}, 1) AND "
        f"substr({lv}, {i + 1}, 1) = substr({mv}, {i}, 1) AND "
        f"substr({lv}, 1, {i - 1}) = substr({mv}, 1, {i - 1}) AND "
        f"substr({lv}, {i + 2}) = substr({mv}, {i + 2}))"
        for i in range(1, n)
    )
    # A swap at (i, i + 1) leaves the first half as it was, or all after its next character.
    k = n // 2
    halves = (
        f"(substr({lv}, 1, {k}) = substr({mv}, 1, {k}) OR "
        f"substr({lv}, {k + 2}) = substr({mv}, {k + 2}))"
    )
    return gated(
        f"length({lv}) = {n} AND length({mv}) = {n} AND {halves}",
        gated(f"levenshtein({lv}, {mv}) = 2", f"({probes})"),
    )


def _body(expr: str) -> str:
    """A resident ID without its check character (a 15-digit ID has none: all of it)."""
    return f"substr({expr}, 1, 17)"


# The near levels of a resident ID, below equality and a masked ID's visible digits: typed
# wrong once (one digit changed or two neighbours swapped in the 17 digits before the check
# character, which a typist may have recomputed or not, so it is left out); typed wrong
# twice; the same division and birth date (the first 14 characters) with another sequence,
# which strangers born the same day in the same county share too, so it weighs only by its
# m/u and is no evidence on its own. Two typos leave one of the division, birth date and
# sequence parts as it was: a cheap test that spares most pairs the edit distance.
_ID_PART_AGREES = (
    "length({l}) = length({m}) AND (substr({l}, 1, 6) = substr({m}, 1, 6) OR "
    "substr({l}, 7, 8) = substr({m}, 7, 8) OR substr({l}, 15, 3) = substr({m}, 15, 3))"
)
_ID_BODY_EDITS = f"levenshtein({_body('{l}')}, {_body('{m}')})"
ID_ONE_TYPO = gated(
    _ID_PART_AGREES,
    f"{_ID_BODY_EDITS} <= 1 OR {transposed(_body('{l}'), _body('{m}'), 17)}",
)
ID_TWO_TYPOS = gated(_ID_PART_AGREES, f"{_ID_BODY_EDITS} <= 2")
ID_PLACE_BIRTH = "length({l}) = 18 AND substr({l}, 1, 14) = substr({m}, 1, 14)"


def near_short(lv: str = "{l}", mv: str = "{m}", n: int = 4) -> str:
    """One character changed, dropped or added (a doubled character), for strings up to
    ``n`` characters (names), spelled out position by position. Engines disagree on edit
    distance over UTF-8 (DuckDB counts bytes, Spark characters), so Chinese text never goes
    through levenshtein. Such a typo keeps the first or the last character: a cheap test
    that spares most pairs the rest."""
    diffs = " + ".join(
        f"CASE WHEN substr({lv}, {i}, 1) = substr({mv}, {i}, 1) THEN 0 ELSE 1 END"
        for i in range(1, n + 1)
    )

    def drops(longer: str, shorter: str) -> str:
        return " OR ".join(
            f"substr({longer}, 1, {i - 1}) || substr({longer}, {i + 1}) = {shorter}"
            for i in range(1, n + 1)
        )

    test = (
        f"length({lv}) <= {n} AND length({mv}) <= {n} AND "
        f"(substr({lv}, 1, 1) = substr({mv}, 1, 1) OR right({lv}, 1) = right({mv}, 1))"
    )
    return gated(
        test,
        f"CASE WHEN length({lv}) = length({mv}) THEN {diffs} <= 1 "
        f"WHEN length({lv}) = length({mv}) - 1 THEN {drops(mv, lv)} "
        f"WHEN length({mv}) = length({lv}) - 1 THEN {drops(lv, mv)} ELSE false END",
    )


def near_long(lv: str = "{l}", mv: str = "{m}", parts: int = 8) -> str:
    """A typo or two in one place of a long text (addresses): lengths within one, and the two
    texts the same outside one stretch of about a ``parts``-th of their length (a character
    changed, dropped or swapped with its neighbour anywhere).

    Spelled out as ``parts`` probes, each keeping a prefix and a suffix that leave one stretch
    out; the stretches overlap by a character, so a one- or two-character change anywhere
    falls inside one. Only a share of the length is left out, never a fixed count: a Chinese
    address's first dozen characters are often just its province, city and district, which
    two strangers in that district share."""
    n = f"greatest(length({lv}), length({mv}))"
    probes = []
    for j in range(parts):
        a = f"CAST(floor({j} * {n} / {parts}) AS INTEGER)"
        b = f"greatest(0, {n} - CAST(floor({j + 1} * {n} / {parts}) AS INTEGER) - 1)"
        end = f"right({lv}, {b}) = right({mv}, {b})"
        probes.append(f"(substr({lv}, 1, {a}) = substr({mv}, 1, {a}) AND {end})" if j else end)
    # A stretch in the second half keeps the first half; one in the first half keeps the
    # last half but a part: a cheap test every probe implies, so most pairs skip the probes.
    h = f"CAST(floor({n} / 2) AS INTEGER)"
    s = f"greatest(0, {n} - {h} - CAST(floor({n} / {parts}) AS INTEGER) - 1)"
    halves = f"(substr({lv}, 1, {h}) = substr({mv}, 1, {h}) OR right({lv}, {s}) = right({mv}, {s}))"
    return (
        f"(abs(length({lv}) - length({mv})) <= 1 AND length({lv}) >= {parts} AND {halves} AND "
        f"({' OR '.join(probes)}))"
    )


def _visible(expr: str) -> str:
    return f"{expr} NOT LIKE '%*%'"


def _visible_parts(col: str, *parts: str) -> str:
    """The ``parts`` of ``col`` hold no mask character. Tested on the whole value first:
    master values are rarely masked, and one test is cheaper than one per part."""
    each = " AND ".join(_visible(p) for p in parts)
    return f"({_visible(col)} OR ({each}))"


def features_sql(src: str, idcol: str, extra: str = "") -> str:
    """Canonical values of ``src`` plus the derived blocking keys; the birth date falls back
    to the one the resident ID carries when its digits are visible. ``extra`` columns (SQL,
    with a leading comma) are passed through."""
    ident = "resident_id"
    birth = (
        f"coalesce(birth, CASE WHEN length({ident}) = 18 AND "
        f"{_visible_parts(ident, f'substr({ident}, 7, 8)')} THEN substr({ident}, 7, 8) END)"
    )
    id_ps = _visible_parts(ident, f"substr({ident}, 1, 6)", f"substr({ident}, 15, 4)")
    mob_ps = _visible_parts("mobile", "substr(mobile, 1, 3)", "substr(mobile, 8, 4)")
    card_ps = _visible_parts("bank_card", "substr(bank_card, 1, 6)", "right(bank_card, 4)")
    return f"""
SELECT {idcol}, person_name, resident_id, mobile, bank_card, address, email, {birth} AS birth,
  CASE WHEN {_visible(ident)} THEN {ident} END AS resident_id_full,
  CASE WHEN length({ident}) = 18 AND {id_ps}
       THEN substr({ident}, 1, 6) || substr({ident}, 15, 4) END AS resident_id_ps,
  CASE WHEN length({ident}) >= 15 AND {_visible_parts(ident, f"substr({ident}, 1, 6)")}
       THEN substr({ident}, 1, 6) END AS resident_id_div,
  CASE WHEN length({ident}) = 18 AND {_visible_parts(ident, f"substr({ident}, 15, 3)")}
       THEN substr({ident}, 15, 3) END AS resident_id_seq,
  CASE WHEN {_visible("mobile")} THEN mobile END AS mob_full,
  CASE WHEN length(mobile) = 11 AND {mob_ps}
       THEN substr(mobile, 1, 3) || substr(mobile, 8, 4) END AS mob_ps,
  CASE WHEN {_visible("bank_card")} THEN bank_card END AS bank_card_full,
  CASE WHEN length(bank_card) >= 14 AND {card_ps}
       THEN substr(bank_card, 1, 6) || right(bank_card, 4) END AS bank_card_ps,
  substr(person_name, 1, 1) AS surname1,
  substr(address, 1, 6) AS area{extra}
FROM {src}"""


def history_versions_sql(current: str, history: str) -> str:
    """Per history row, the customer's current row with that field's earlier value in place
    (what the record looked like at some earlier time), and which ``field`` that was.

    Only the blocking reads these, and a rule reads a version only for a field its keys
    derive from; when no rule's keys derive from two fields with history, the other such
    fields are left null, so the pass that builds the versions reads no more of the master
    than the keys need."""
    two = any(len({KEY_SOURCES[k] for k in b.keys} & set(HISTORICAL)) > 1 for b in BLOCKS)
    cols = []
    for v in VALUES:
        if v in HISTORICAL:
            other = f"c.{v}" if two else "NULL"
            cols.append(f"CASE WHEN h.field = '{v}' THEN h.value ELSE {other} END AS {v}")
        else:
            cols.append(f"c.{v}")
    return (
        f"SELECT c.mid, {', '.join(cols)}, h.field FROM {history} h "
        f"JOIN {current} c ON c.mid = h.mid"
    )


def own_versions_sql(history: str) -> str:
    """Per history row, a row holding only that earlier value (in its field's column; every
    other column null) and which ``field`` it was: what rules keyed on that field alone need."""
    cols = [
        f"CASE WHEN h.field = '{v}' THEN h.value END AS {v}"
        if v in HISTORICAL
        else f"CAST(NULL AS VARCHAR) AS {v}"
        for v in VALUES
    ]
    return f"SELECT h.mid, {', '.join(cols)}, h.field FROM {history} h"


COMPARISONS = (
    Comparison(
        "resident_id",
        "resident_id",
        ("{l} = {m}", MASKED, ID_ONE_TYPO, ID_TWO_TYPOS, ID_PLACE_BIRTH),
    ),
    Comparison("person_name", "person_name", ("{l} = {m}", near_short())),
    Comparison("birth", "birth", ("{l} = {m}", f"({ONE_EDIT} OR {transposed(n=8)})")),
    Comparison("mobile", "mobile", ("{l} = {m}", MASKED, f"({ONE_EDIT} OR {transposed(n=11)})")),
    Comparison("bank_card", "bank_card", ("{l} = {m}", MASKED, ONE_EDIT)),
    Comparison(
        "address",
        "address",
        ("{l} = {m}", near_long(), "substr({l}, 1, 6) = substr({m}, 1, 6)"),
    ),
    Comparison("email", "email", ("{l} = {m}",)),
)

BLOCKS = (
    Block("resident_id", ("resident_id_full",), first=True),
    Block("bank_card", ("bank_card_full",), first=True),
    Block("mobile", ("mob_full",), first=True),
    Block("resident_id_visible", ("resident_id_ps",)),
    Block("mobile_visible", ("mob_ps", "surname1")),
    Block("bank_card_visible", ("bank_card_ps",)),
    Block("name_birth", ("person_name", "birth")),
    # An ID typed wrong in its birth date (or in its division, or two neighbours swapped
    # across the two), its mobile changed: with the name, the ID's division or sequence
    # still meets. Keys from the ID alone (division + sequence, birth date + sequence) would
    # pair each leak row with a few strangers of a 10M master, nearly doubling the pairs
    # for the rare record whose name is typed wrong too.
    Block("name_division", ("person_name", "resident_id_div")),
    Block("name_sequence", ("person_name", "resident_id_seq")),
    Block("address", ("address",)),
    Block("name_area", ("person_name", "area")),
)

# The value each blocking key is derived from.
KEY_SOURCES = {
    "resident_id_full": "resident_id",
    "resident_id_ps": "resident_id",
    "resident_id_div": "resident_id",
    "resident_id_seq": "resident_id",
    "bank_card_full": "bank_card",
    "bank_card_ps": "bank_card",
    "mob_full": "mobile",
    "mob_ps": "mobile",
    "surname1": "person_name",
    "person_name": "person_name",
    "birth": "birth",
    "address": "address",
    "area": "address",
}
# Keys an earlier value of a field with history changes.
HISTORY_KEYS = tuple((k, f) for k, f in KEY_SOURCES.items() if f in HISTORICAL)

# Level from which a comparison counts as evidence of the same person (an address in the same
# city is not, nor an ID that only shares its division and birth date).
EVIDENCE_LEVEL = {"address": 2, "resident_id": 2}

# Comparisons whose best level means the same strong identifier, in full.
STRONG = ("resident_id", "bank_card", "mobile")


def spec_for(present: set[str]) -> Spec:
    """The profile restricted to the values the leak and the master both have.

    No identifier vetoes a pair by disagreeing: a resident ID typed wrong, or a mobile that
    changed, weighs by its m/u like any comparison. One agreeing field is no proof, though
    (a masked ID's visible digits recur in a big master; namesakes share a birth date): a
    link needs two, unless a full ID or card agrees or the leak offers only one field. The
    birth date is not counted, as it repeats the ID's digits."""
    comps = tuple(c for c in COMPARISONS if c.column in present)
    blocks = tuple(b for b in BLOCKS if all(KEY_SOURCES[k] in present for k in b.keys))
    counted = [c.name for c in comps if c.name != "birth"]
    if not counted:
        return Spec(comps, blocks)
    agree = " + ".join(
        f"CASE WHEN g_{n} >= {EVIDENCE_LEVEL.get(n, 1)} THEN 1 ELSE 0 END" for n in counted
    )
    avail = " + ".join(f"CASE WHEN g_{n} >= 0 THEN 1 ELSE 0 END" for n in counted)
    strong = " OR ".join(
        f"g_{c.name} = {len(c.levels)}" for c in comps if c.name in ("resident_id", "bank_card")
    )
    veto = f"({agree}) < least(2, {avail})"
    return Spec(comps, blocks, veto=f"{veto} AND NOT ({strong})" if strong else veto)
