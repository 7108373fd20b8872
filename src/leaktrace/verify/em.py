"""Fellegi–Sunter weights by expectation–maximisation over comparison-pattern counts.

EM runs on the distinct patterns and their counts (a few hundred rows), never per pair, so its
cost does not grow with the leak. ``u`` (how often non-matching pairs agree at each level) is
fixed from random pairs, as Splink does; EM estimates ``m`` and the share of matches. The
starting ``m`` doubles as a weak Dirichlet prior, so a leak with a handful of candidate pairs
cannot talk EM into calling a lone disagreement typical of matches.

The match share ``lam`` is taken over every leak x master pair (``total``), not over the
candidate pairs alone, as Splink's "probability two random records match": the u of each
level come from random pairs, so the agreement that put a pair among the candidates is
already counted in its Bayes factor. Taken over the candidates, the share would count it a
second time, and strangers who only share what a blocking rule keys on (a name and a birth
date) would pass as matches.

Patterns the spec's veto rules out (``can_match`` false) are non-matches by the linkage's own
rules, so EM counts them among the non-matches only. Otherwise blocking, which makes pairs
agree on its keys far more often than random pairs do (a common name in one district), hands
EM a large class of such pairs that it can only explain as matches: it then learns that
matches often disagree on every identifier, and weak pairs (a masked ID and a nearby address)
that disagree on the name, the mobile and the card pass as links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR = 1e-9
PRIOR_PAIRS = 50.0  # weight of the starting m as Dirichlet pseudo-counts (small leaks lean on it)


@dataclass
class EMResult:
    """Per comparison, ``m`` and ``u`` by level (index = level); the match share among the
    ``total`` pairs the leak and the master make; iterations run."""

    m: list[np.ndarray]
    u: list[np.ndarray]
    lam: float
    iterations: int
    converged: bool
    total: float = 1.0

    @property
    def matches(self) -> float:
        """Expected number of matching pairs."""
        return self.lam * self.total

    def log2_bf(self, patterns: np.ndarray) -> np.ndarray:
        """Match weight (log2 Bayes factor) of each pattern row; MISSING (-1) adds nothing."""
        total = np.zeros(len(patterns))
        for j, (m, u) in enumerate(zip(self.m, self.u, strict=True)):
            g = patterns[:, j]
            ok = g >= 0
            total[ok] += np.log2(m[g[ok]]) - np.log2(u[g[ok]])
        return total

    def probability(self, patterns: np.ndarray) -> np.ndarray:
        """Posterior match probability of each pattern."""
        prior = np.log2(self.lam / (1 - self.lam))
        return 1.0 / (1.0 + np.exp2(-(prior + self.log2_bf(patterns))))


def initial_m(n_levels: int) -> np.ndarray:
    """A starting m: most matches agree at the best level."""
    m = np.full(n_levels, 0.05 / max(1, n_levels - 1))
    m[-1] = 0.95
    return m / m.sum()


def run_em(
    patterns: np.ndarray,
    counts: np.ndarray,
    u: list[np.ndarray],
    lam: float = 0.3,
    max_iter: int = 100,
    tol: float = 1e-6,
    can_match: np.ndarray | None = None,
    total: float | None = None,
) -> EMResult:
    """Estimate m and the match share from ``patterns`` (rows of levels, -1 missing) seen
    ``counts`` times, with ``u`` fixed. Patterns where ``can_match`` is false (vetoed) are
    taken as non-matches. The share ``lam`` (its starting value given) is over ``total``
    pairs, by default the counted ones; pairs left uncounted are non-matches."""
    prior = [initial_m(len(uj)) for uj in u]
    m = [p.copy() for p in prior]
    w = counts.astype(float)
    total = max(float(w.sum() if total is None else total), float(w.sum()), 1.0)
    res = EMResult(m, u, lam, 0, False, total)
    ok_pattern = np.ones(len(w)) if can_match is None else np.asarray(can_match, dtype=float)
    for it in range(1, max_iter + 1):
        res.iterations = it
        p = res.probability(patterns) * ok_pattern
        matched = w * p
        new_lam = float(np.clip(matched.sum() / total, 1 / (10 * total), 1 - 1e-6))
        new_m = []
        for j, uj in enumerate(u):
            g = patterns[:, j]
            ok = g >= 0
            mj = np.bincount(g[ok], weights=matched[ok], minlength=len(uj)) + PRIOR_PAIRS * prior[j]
            mj = np.maximum(mj / max(mj.sum(), FLOOR), FLOOR)
            new_m.append(mj / mj.sum())
        delta = max(
            abs(new_lam - res.lam) / res.lam,
            *(float(np.abs(a - b).max()) for a, b in zip(new_m, res.m, strict=True)),
        )
        res.m, res.lam = new_m, new_lam
        if delta < tol:
            res.converged = True
            break
    return res
