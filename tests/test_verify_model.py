"""The linkage model: the address typo level, EM with vetoed patterns and its match share,
strangers who share a masked ID's visible digits and a district with a customer, customers
typed wrong once (IDs, mobiles, cards) against namesakes born the same day, and the near
levels of IDs and mobiles on DuckDB and Spark."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from bench.measure import write_scanned
from leaktrace.pii.resident_id import check_char
from leaktrace.synth.world import make_world
from leaktrace.verify import verify
from leaktrace.verify.em import run_em
from leaktrace.verify.engines import DuckEngine, Engine, make_engine
from leaktrace.verify.profile import COMPARISONS, near_long
from leaktrace.verify.sql import level_sql

ADDR = "广西壮族自治区南宁市兴宁区迎宾南大道48号10栋4单元902室"


def _near(left: str, right: str) -> bool:
    expr = near_long("l", "m")
    return duckdb.sql(f"SELECT {expr} FROM (SELECT '{left}' AS l, '{right}' AS m)").fetchall()[0][0]


def test_near_long_is_one_typo_anywhere() -> None:
    for i in range(len(ADDR)):
        changed = ADDR[:i] + "某" + ADDR[i + 1 :]
        dropped = ADDR[:i] + ADDR[i + 1 :]
        assert _near(changed, ADDR) and _near(ADDR, changed), i
        assert _near(dropped, ADDR) and _near(ADDR, dropped), i


def test_near_long_rejects_another_address_in_the_district() -> None:
    # The same 13-character province/city/district, another street, building and flat.
    other = "广西壮族自治区南宁市兴宁区惠州西路201号1栋4单元1803室"
    assert not _near(other, ADDR)
    # Two changes far apart are not one typo.
    assert not _near(ADDR.replace("迎宾", "迎春").replace("902", "903"), ADDR)


def test_em_keeps_vetoed_patterns_out_of_the_matches() -> None:
    # Columns: id (0 no, 1 yes), name (0 no, 1 yes). 1000 true matches agree on both; 5000
    # pairs blocked on the name agree on it alone, which the veto rules out as links.
    patterns = np.array([[1, 1], [0, 1], [0, 0]])
    counts = np.array([1000, 5000, 20000])
    u = [np.array([1 - 1e-6, 1e-6]), np.array([0.999, 0.001])]
    free = run_em(patterns, counts, u)
    vetoed = run_em(patterns, counts, u, can_match=np.array([True, False, False]))
    # Left free, EM calls the name-only pairs matches, so disagreeing IDs look ordinary.
    assert free.m[0][0] > 0.5
    assert vetoed.m[0][0] < 0.01
    assert vetoed.lam * counts.sum() == pytest.approx(1000, rel=0.01)
    assert free.probability(patterns[1:2])[0] > 0.9
    assert vetoed.probability(patterns[1:2])[0] < 0.5


def test_em_share_over_all_pairs_keeps_namesakes_out() -> None:
    """No veto on a disagreeing ID: 900 matches agree on ID, name and mobile, 100 carry an
    ID typo and a new mobile, 3000 namesakes (paired by a name block) agree on the name
    alone. With the match share over the candidate pairs, EM takes the namesakes for
    matches; over all 2,000 x 1,000,000 pairs, as the random-pair u call for, it does not,
    and the ID typos stay links."""
    # Columns: id (0 other, 1 a typo away, 2 same), name (0, 1), mobile (0, 1).
    patterns = np.array([[2, 1, 1], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    counts = np.array([900, 100, 3000, 20000])
    u = [np.array([1 - 2e-6, 1e-6, 1e-6]), np.array([1 - 1e-4, 1e-4]), np.array([1 - 1e-7, 1e-7])]
    among_candidates = run_em(patterns, counts, u)
    over_all = run_em(patterns, counts, u, lam=0.5 / 1e6, total=2e3 * 1e6)
    assert among_candidates.probability(patterns[2:3])[0] > 0.9
    p = over_all.probability(patterns)
    assert p[0] > 0.99 and p[1] > 0.9 and p[2] < 0.01
    assert over_all.matches == pytest.approx(1000, rel=0.01)
    assert over_all.m[0][0] < 0.01


def _one_off(name: str) -> str:
    """``name`` with its last character replaced (a typo's distance from it)."""
    return name[:-1] + ("伟" if name[-1] != "伟" else "芳")


def test_strangers_near_a_customer_are_not_linked(tmp_path: Path) -> None:
    """Strangers who look a little like customers, next to 600 customers: 2,400 namesakes
    living in a customer's district, their IDs masked (blocking pairs them with that customer
    on name and area; EM must not take them for matches), 300 carrying a customer's masked ID digits and a name one character
    off, and 300 carrying the masked ID digits and an address in the same district, on
    another street. Their mobiles and cards are their own. None may be linked."""
    world = make_world(4000, seed=3, out=tmp_path / "world")
    cols = ["name", "resident_id", "mobile", "card_no", "address"]
    cust = world.customers.select("customer_id", *cols).collect()
    ours = cust.head(600)
    others = make_world(3000, seed=99).customers.select(cols).collect()
    donors = cust.sample(3000, seed=1, with_replacement=True)
    d, o = donors.to_dict(as_series=False), others.to_dict(as_series=False)
    masked = [v[:6] + "*" * 8 + v[14:] for v in d["resident_id"]]
    rows = []
    for i in range(3000):
        row = {c: o[c][i] for c in cols}
        if i < 2400:  # namesake in the customer's district
            row["name"] = d["name"][i]
            row["resident_id"] = row["resident_id"][:6] + "*" * 8 + row["resident_id"][14:]
            row["address"] = d["address"][i][:6] + o["address"][i][6:]
        elif i < 2700:  # masked ID digits and a name one character off
            row["resident_id"], row["name"] = masked[i], _one_off(d["name"][i])
        else:  # masked ID digits and an address in the same district, another street
            row["resident_id"] = masked[i]
            row["address"] = d["address"][i][:13] + o["address"][i][13:]
        rows.append(row)
    strangers = pl.DataFrame(rows, schema={c: pl.String for c in cols})
    leak = pl.concat([ours.select(cols), strangers])
    report = verify(write_scanned(leak, tmp_path / "leak.parquet"), world.path)
    assert report.matches is not None
    got = dict(report.matches.select("rid", "mid").iter_rows())
    truth = ours["customer_id"].to_list()
    wrong = {r: m for r, m in got.items() if r >= len(truth) or truth[r] != m}
    assert not wrong, list(wrong.items())[:5]
    assert len(got) == len(truth)


def test_u_from_a_master_sample_is_close_to_the_whole_master(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exact u read from a sample of the master (as for big masters) stays near the value the
    whole master gives, and the links stay the same."""
    from leaktrace.synth.leaks import make_leak
    from leaktrace.synth.writers import write_leak
    from leaktrace.verify import linkage

    world = make_world(6000, seed=5, out=tmp_path / "world")
    leak = make_leak(world, "share", seed=2, size=0.5)
    path = write_leak(leak, tmp_path / "leak.csv", "csv")
    whole = verify(path, world.path)
    monkeypatch.setattr(linkage, "EXACT_ROWS", 1500)
    monkeypatch.setattr(linkage, "EXACT_PAIRS", 1.0)
    sampled = verify(path, world.path)
    assert whole.linkage is not None and sampled.linkage is not None
    for a, b in zip(whole.linkage.weights, sampled.linkage.weights, strict=True):
        if a.name in ("resident_id", "person_name", "mobile"):
            assert b.u[-1] != a.u[-1]  # a quarter of the master, so not the same count
            assert 0.5 < b.u[-1] / a.u[-1] < 2, (a.name, a.u[-1], b.u[-1])
    assert whole.matches is not None and sampled.matches is not None
    assert whole.matches.select("rid", "mid").equals(sampled.matches.select("rid", "mid"))


def _digit_typo(value: str, i: int) -> str:
    """``value`` with its ``i``-th digit changed (a neighbouring key's digit)."""
    return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]


def _swap(value: str, start: int) -> str:
    """``value`` with the first two neighbouring different digits from ``start`` swapped."""
    i = next(j for j in range(start, len(value) - 1) if value[j] != value[j + 1])
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


def _id_typo(resident_id: str, i: int, recompute: bool) -> str:
    """One digit of the ID's first 17 typed wrong; the check character recomputed or not."""
    body = _digit_typo(resident_id[:17], i)
    return body + (check_char(body) if recompute else resident_id[17])


def test_typed_wrong_once_links_and_lookalikes_do_not(tmp_path: Path) -> None:
    """Customers whose resident ID, mobile or card was typed wrong once (a digit anywhere in
    the ID, with its check character recomputed or not; neighbours swapped; a masked birth
    date), often with a changed mobile or a moved address besides, are linked to themselves.
    Strangers who share a customer's name and birth date (their own ID, even one from the
    same county with another sequence number; their own mobile), or carry only a customer's
    masked ID digits, are not."""
    world = make_world(4000, seed=13, out=tmp_path / "world")
    cols = ["name", "resident_id", "mobile", "card_no", "address"]
    cust = world.customers.select("customer_id", *cols).collect().sample(360, seed=2)
    c = cust.to_dict(as_series=False)
    o = make_world(3000, seed=98).customers.select(cols).collect().to_dict(as_series=False)
    cases = [
        "id digit, check recomputed",
        "id digit, check kept, new mobile",
        "id digits swapped, new mobile",
        "id birth date masked, new mobile",
        "new mobile and address",
        "mobile digits swapped, id digit, moved",
        "card digit, id digit, new mobile",
        "birth date digit, new mobile, moved",
        "namesake born the same day",
        "namesake born the same day in the same county",
        "a customer's masked id",
    ]
    rows, want, case_of = [], [], []
    for i in range(len(cust)):
        case = cases[i % len(cases)]
        row = {k: c[k][i] for k in cols}
        rid, k = row["resident_id"], i // len(cases)
        new_mobile, moved = {"mobile": o["mobile"][i]}, {"address": o["address"][i]}
        stranger = {col: o[col][i] for col in cols}
        if case == cases[0]:
            row["resident_id"] = _id_typo(rid, k % 17, recompute=True)
        elif case == cases[1]:
            row |= {"resident_id": _id_typo(rid, (k * 5) % 17, recompute=False)} | new_mobile
        elif case == cases[2]:
            body = _swap(rid[:17], k % 15)
            row |= {"resident_id": body + check_char(body)} | new_mobile
        elif case == cases[3]:
            row |= {"resident_id": rid[:6] + "*" * 8 + rid[14:]} | new_mobile
        elif case == cases[4]:
            row |= new_mobile | moved
        elif case == cases[5]:
            row |= {"mobile": _swap(row["mobile"], 3 + k % 7)} | moved
            row["resident_id"] = _id_typo(rid, k % 17, recompute=True)
        elif case == cases[6]:
            row |= {"card_no": _digit_typo(row["card_no"], 6 + k % 9)} | new_mobile
            row["resident_id"] = _id_typo(rid, (k * 3) % 17, recompute=True)
        elif case == cases[7]:
            row |= {"resident_id": _id_typo(rid, 8 + k % 6, recompute=True)} | new_mobile | moved
        elif case == cases[8]:
            body = stranger["resident_id"][:6] + rid[6:14] + stranger["resident_id"][14:17]
            row = stranger | {"name": row["name"], "resident_id": body + check_char(body)}
        elif case == cases[9]:
            # Another sequence (every digit other: not a typo of the customer's).
            body = rid[:14] + "".join(str((int(d) + 1 + k % 9) % 10) for d in rid[14:17])
            row = stranger | {"name": row["name"], "resident_id": body + check_char(body)}
        else:
            row = stranger | {"resident_id": rid[:6] + "*" * 8 + rid[14:]}
        if case != cases[6]:  # a full card would link on its own: these rows have none
            row["card_no"] = None
        rows.append(row)
        want.append(c["customer_id"][i] if cases.index(case) < 8 else None)
        case_of.append(case)
    leak = pl.DataFrame(rows, schema={col: pl.String for col in cols})
    report = verify(write_scanned(leak, tmp_path / "leak.parquet"), world.path)
    assert report.matches is not None
    got = dict(report.matches.select("rid", "mid").iter_rows())
    wrong = sorted({case_of[r] for r, m in enumerate(want) if got.get(r) != m})
    assert not wrong, wrong


def _levels(engine: Engine, pairs: list[tuple[str, str]], comparison: str) -> list[int]:
    """The level ``comparison`` of the profile gives each (leak, master) value pair."""
    comp = next(x for x in COMPARISONS if x.name == comparison)
    for side, values in (("a", [x for x, _ in pairs]), ("b", [y for _, y in pairs])):
        engine.load_arrow(side, pa.table({"i": list(range(len(pairs))), comp.column: values}))
    expr = level_sql(comp, "a", "b")
    rows = engine.fetch(f"SELECT a.i, {expr} AS g FROM a JOIN b ON a.i = b.i ORDER BY a.i")
    return [r["g"] for r in rows.to_pylist()]


ID = "110105198703152917"
ID_PAIRS = [
    (ID, ID),  # the same: 5
    ("110105********2917", ID),  # masked, visible digits agree: 4
    (_id_typo(ID, 9, recompute=True), ID),  # a birth-date digit, check recomputed: 3
    (_id_typo(ID, 2, recompute=False), ID),  # a division digit, check kept: 3
    (_swap(ID[:17], 14) + check_char(_swap(ID[:17], 14)), ID),  # sequence digits swapped: 3
    (_id_typo(_id_typo(ID, 3, False), 12, True), ID),  # two digits: 2
    (ID[:14] + "530" + check_char(ID[:14] + "530"), ID),  # same county and day: 1
    ("310104199001011234", ID),  # another person: 0
]
ID_LEVELS = [5, 4, 3, 3, 3, 2, 1, 0]
MOBILE_PAIRS = [
    ("13812345678", "13812345678"),
    ("138****5678", "13812345678"),
    ("13812345687", "13812345678"),  # last two swapped
    ("13812845678", "13812345678"),  # one digit
    ("13812346587", "13812345678"),  # two swaps: another number
]
MOBILE_LEVELS = [3, 2, 1, 1, 0]


def test_near_levels_of_ids_and_mobiles() -> None:
    eng = DuckEngine()
    try:
        assert _levels(eng, ID_PAIRS, "resident_id") == ID_LEVELS
        assert _levels(eng, MOBILE_PAIRS, "mobile") == MOBILE_LEVELS
    finally:
        eng.close()


def test_near_levels_are_the_same_on_spark() -> None:
    pytest.importorskip("pyspark")
    eng = make_engine("spark")
    try:
        assert _levels(eng, ID_PAIRS, "resident_id") == ID_LEVELS
        assert _levels(eng, MOBILE_PAIRS, "mobile") == MOBILE_LEVELS
    finally:
        eng.close()
