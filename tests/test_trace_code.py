"""The keyed Tardos code and the accusation: determinism, key separation, the bias density, the
false-accusation bound (an upper bound, calibrated), and detection of leakers and coalitions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from leaktrace.trace import code
from leaktrace.trace.accuse import ERASED, InnocentScore, Received, accuse, scores

KEY = b"leaktrace-test-secret-0123456789"
RECIPIENTS = 1000


def _positions(customers: int, slots: int, seed: int) -> np.ndarray:
    """Position ids of ``slots`` binary slots of ``customers`` customers numbered like a master."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(50_000_000, customers, replace=False)
    return code.position_ids(np.repeat(ids, slots), np.tile(np.arange(slots), customers))


def _copies(positions: np.ndarray) -> np.ndarray:
    """The symbols of RECIPIENTS shares at ``positions``, one row per share."""
    return np.stack([code.symbols(KEY, f"share-{i:04d}", positions) for i in range(RECIPIENTS)])


def _leak_and_accuse(positions: np.ndarray, colluders: int, attack: str, seed: int):
    """Cut a leak from the first ``colluders`` copies with ``attack`` and accuse among all."""
    p = code.bias(KEY, positions)
    x = _copies(positions)
    ones = x[:colluders].sum(axis=0)
    tie = np.random.default_rng(seed).random(positions.size) < 0.5
    leak = {
        "copy": x[0],
        "union": ones > 0,
        "intersection": ones == colluders,
        "majority": (2 * ones > colluders) | ((2 * ones == colluders) & tie),
    }[attack]
    received = {f"share-{i:04d}": Received(x[i]) for i in range(RECIPIENTS)}
    return accuse(leak.astype(np.int8), p, received), {f"share-{i:04d}" for i in range(colluders)}


def test_code_is_deterministic_and_per_position() -> None:
    pos = _positions(1000, 4, seed=1)
    assert np.array_equal(code.bias(KEY, pos), code.bias(KEY, pos))
    assert np.array_equal(code.symbols(KEY, "s1", pos), code.symbols(KEY, "s1", pos))
    # a position's bias and symbol do not depend on which other positions are asked with it
    assert code.bias(KEY, pos[17]) == code.bias(KEY, pos)[17]
    assert np.array_equal(code.symbols(KEY, "s1", pos[::7]), code.symbols(KEY, "s1", pos)[::7])


def test_keys_and_shares_give_independent_looking_symbols() -> None:
    pos = _positions(25_000, 4, seed=2)
    p = code.bias(KEY, pos)
    other_key = b"another-secret-of-the-same-bank!"
    assert abs(stats.pearsonr(p, code.bias(other_key, pos)).statistic) < 0.02
    a, b = code.symbols(KEY, "share-a", pos), code.symbols(KEY, "share-b", pos)
    # given the biases, two shares' symbols are independent: they agree at rate Σ p² + (1-p)²
    expected = (p**2 + (1 - p) ** 2).mean()
    sd = np.sqrt(expected * (1 - expected) / pos.size)
    assert abs((a == b).mean() - expected) < 5 * sd
    # each share's symbols follow the biases, not a fair coin
    assert abs(a.mean() - p.mean()) < 5 * np.sqrt(0.25 / pos.size)
    low = p < 0.1
    assert abs(a[low].mean() - p[low].mean()) < 5 * np.sqrt(0.1 / low.sum())
    # another key: symbols unrelated to this key's biases
    c = code.symbols(other_key, "share-a", pos)
    assert abs(stats.pearsonr(c.astype(float), p).statistic) < 0.02
    assert stats.pearsonr(a.astype(float), p).statistic > 0.5


def test_biases_follow_the_arcsine_density_with_its_cutoff() -> None:
    cutoff = 1 / 600
    p = code.bias(KEY, _positions(20_000, 5, seed=3), cutoff=cutoff)
    assert p.min() >= cutoff and p.max() <= 1 - cutoff
    assert stats.kstest(p, lambda v: code.arcsine_cdf(v, cutoff)).pvalue > 1e-3
    assert stats.kstest(p, "uniform").pvalue < 1e-6
    other = code.bias(KEY, _positions(20_000, 5, seed=3), cutoff=1 / 30)
    assert stats.kstest(other, lambda v: code.arcsine_cdf(v, cutoff)).pvalue < 1e-6


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: code.bias(b"short", [1]), "at least 16 bytes"),
        (lambda: code.symbols(KEY, "", [1]), "share id"),
        (lambda: code.bias(KEY, [-1]), "non-negative"),
        (lambda: code.bias(KEY, [0.5]), "non-negative integers"),
        (lambda: code.bias(KEY, [1], cutoff=0.5), "cut-off"),
        (lambda: code.position_ids([1], [256]), "slot"),
        (lambda: scores([1, 2], [0.5, 0.5], [True, False]), "observed symbols"),
        (lambda: scores([1, 0], [0.5, 1.0], [True, False]), "biases"),
        (lambda: accuse([1], [0.5], {"a": Received(np.array([True]))}, tested=0), "tested"),
        (lambda: accuse([1], [0.5], {"a": Received(np.array([True]), np.array([3]))}), "indices"),
    ],
)
def test_misuse_is_a_clear_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_score_is_the_symmetric_tardos_score() -> None:
    p = np.array([0.2, 0.2, 0.7, 0.7, 0.5])
    observed = np.array([1, 1, 0, 0, ERASED])
    x = np.array([[True, False, False, True, True]])
    # y=1: +√((1-p)/p) if x=1, -√(p/(1-p)) if x=0; y=0: +√(p/(1-p)) if x=0, -√((1-p)/p) if x=1
    expected = np.sqrt(0.8 / 0.2) - np.sqrt(0.2 / 0.8) + np.sqrt(0.7 / 0.3) - np.sqrt(0.3 / 0.7)
    assert scores(observed, p, x)[0] == pytest.approx(expected)


def _exact_tail(observed: np.ndarray, p: np.ndarray, s: float) -> float:
    """P(S_innocent ≥ s) by enumerating every innocent symbol vector."""
    xs = np.array(list(itertools.product((False, True), repeat=p.size)), dtype=bool)
    weight = np.prod(np.where(xs, p, 1 - p), axis=1)
    return float(weight[scores(observed, p, xs) >= s].sum())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.001, 0.999), st.sampled_from((1, 0, ERASED))),
        min_size=1,
        max_size=10,
    ),
    st.floats(0, 1),
    st.floats(0, 3),
)
def test_fap_bound_is_never_below_the_exact_tail(cases, quantile: float, tilt: float) -> None:
    p = np.array([c[0] for c in cases])
    observed = np.array([c[1] for c in cases])
    xs = np.array(list(itertools.product((False, True), repeat=p.size)), dtype=bool)
    attainable = np.unique(scores(observed, p, xs))
    s = float(np.quantile(attainable, quantile, method="nearest"))
    exact = _exact_tail(observed, p, s)
    innocent = InnocentScore(observed, p)
    for bound in (innocent.bound(s)[0], innocent.chernoff(s)[0][0], innocent.exact(s, tilt)[0]):
        assert bound >= exact * (1 - 1e-9) - 1e-15


def test_fap_is_calibrated_on_a_million_innocent_scores() -> None:
    rng = np.random.default_rng(4)
    pos = _positions(16, 5, seed=4)
    p = code.bias(KEY, pos)
    observed = (rng.random(pos.size) < p).astype(np.int8)
    observed[rng.random(pos.size) < 0.2] = ERASED
    innocent = InnocentScore(observed, p)
    s = np.concatenate(
        [scores(observed, p, rng.random((100_000, pos.size)) < p) for _ in range(10)]
    )
    fap = innocent.bound(s)
    for epsilon in (0.1, 0.01, 0.001):
        rate = (fap <= epsilon).mean()
        assert rate <= epsilon
        assert rate >= epsilon / 4  # tight enough to be worth computing exactly


def test_one_leaker_is_accused_among_a_thousand_at_eighty_positions() -> None:
    for seed in range(3):
        ranked, leakers = _leak_and_accuse(_positions(16, 5, seed=10 + seed), 1, "copy", seed)
        assert ranked[0].recipient in leakers and ranked[0].accused
        assert ranked[0].corrected_fap <= 1e-6
        assert ranked[0].received == ranked[0].observed == 80
        assert not any(a.accused for a in ranked[1:])
        assert ranked[1].corrected_fap > 1e-3


@pytest.mark.parametrize("attack", ["union", "intersection", "majority"])
def test_two_colluders_one_accused_never_an_innocent(attack: str) -> None:
    ranked, colluders = _leak_and_accuse(_positions(80, 5, seed=20), 2, attack, 20)
    accused = {a.recipient for a in ranked if a.accused}
    assert accused and accused <= colluders


@pytest.mark.parametrize("attack", ["union", "intersection", "majority"])
def test_three_colluders_one_accused_never_an_innocent(attack: str) -> None:
    ranked, colluders = _leak_and_accuse(_positions(200, 5, seed=30), 3, attack, 30)
    accused = {a.recipient for a in ranked if a.accused}
    assert accused and accused <= colluders


def test_erasures_weaken_evidence_but_never_accuse() -> None:
    rng = np.random.default_rng(5)
    pos = _positions(40, 5, seed=5)
    p = code.bias(KEY, pos)
    x = _copies(pos)
    received = {f"share-{i:04d}": Received(x[i]) for i in range(RECIPIENTS)}
    leak = x[0].astype(np.int8)
    full = accuse(leak, p, received)[0]
    masked = leak.copy()
    masked[rng.random(pos.size) < 0.6] = ERASED
    partial = {a.recipient: a for a in accuse(masked, p, received)}["share-0000"]
    assert full.recipient == "share-0000" and full.accused
    assert partial.observed < full.observed and partial.fap > full.fap
    blank = accuse(np.full(pos.size, ERASED, np.int8), p, received)
    assert all(a.score == 0 and a.fap == 1 and not a.accused for a in blank)
    # masks chosen without sight of the innocents' copies (random cells, whole slots, the
    # leaker's own 1s) never accuse an innocent, however much they leave
    slot = pos & 0xFF
    masks = [rng.random(pos.size) < rate for rate in (0.1, 0.3, 0.5, 0.7, 0.9)]
    masks += [slot == k for k in range(5)] + [x[0], ~x[0]]
    for mask in masks:
        ranked = accuse(np.where(mask, ERASED, leak).astype(np.int8), p, received)
        assert not any(a.accused for a in ranked if a.recipient != "share-0000")


def test_recipients_are_scored_on_what_they_received() -> None:
    pos = _positions(60, 5, seed=6)
    p = code.bias(KEY, pos)
    x = _copies(pos)
    leak = x[7].astype(np.int8)
    rng = np.random.default_rng(6)
    received = {
        f"share-{i:04d}": Received(x[i][where], where)
        for i in range(RECIPIENTS)
        for where in [np.sort(rng.choice(pos.size, 150, replace=False))]
    }
    ranked = accuse(leak, p, received, tested=5000)
    assert ranked[0].recipient == "share-0007" and ranked[0].accused
    assert ranked[0].received == 150
    assert ranked[0].corrected_fap == pytest.approx(ranked[0].fap * 5000)
    assert not any(a.accused for a in ranked[1:])
