"""Symmetric Tardos scores and each case's false-accusation probability (FAP), bounded rigorously.

Given the leak's symbols and the biases, an innocent recipient's symbols are independent
Bernoulli(p_j), so its score is a sum of independent two-valued variables. Its tail is bounded
two ways, both upper bounds, and the smaller is kept: a Chernoff bound from the exact per-position
moment generating functions, and the exact tail of the score rounded up to a fine grid, computed by
FFT convolution under an exponential tilt (so that the far tail is not lost in rounding noise) plus
an allowance for floating-point error. Accusation corrects for the number of recipients tested
(Bonferroni).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import convolve

#: The leak's symbol at a position where it is masked, missing or unreadable.
ERASED = -1
#: Tilts tried by the Chernoff bound; any λ ≥ 0 gives a valid bound, the grid only its tightness.
_TILTS = np.concatenate(([0.0], np.geomspace(1e-3, 64.0, 192)))
#: The grid's point budget and finest step for the exact tail; beyond it only Chernoff is used.
_MAX_POINTS = 1 << 19
_MIN_POINTS = 1 << 14
_FINEST_STEP = 2.0**-12
_MAX_EXACT_POSITIONS = 20_000
_CHUNK = 1 << 16
_BLOCK = 8


def _two_point(
    observed: NDArray[np.int8], p: NDArray[np.float64]
) -> tuple[NDArray, NDArray, NDArray]:
    """Per observed position: the score when the symbol matches the leak (gain), the penalty when
    it does not (loss), and the chance an innocent matches: U = gain with that chance, else -loss."""
    a = np.sqrt((1 - p) / p)
    b = np.sqrt(p / (1 - p))
    one = observed == 1
    return np.where(one, a, b), np.where(one, b, a), np.where(one, p, 1 - p)


def _check(observed: ArrayLike, p: ArrayLike) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    y = np.asarray(observed)
    q = np.asarray(p, dtype=np.float64)
    if y.ndim != 1 or y.shape != q.shape:
        raise ValueError("observed symbols and biases must be 1-d arrays of one length")
    if y.size and not np.isin(y, (0, 1, ERASED)).all():
        raise ValueError(f"observed symbols must be 0, 1 or {ERASED} (erased)")
    if q.size and not ((q > 0) & (q < 1)).all():
        raise ValueError("biases must lie strictly between 0 and 1")
    return y.astype(np.int8), q


def scores(observed: ArrayLike, p: ArrayLike, x: ArrayLike) -> NDArray[np.float64]:
    """Symmetric Tardos score of each row of symbols ``x`` (shape (..., m)) against the leak;
    erased positions count 0."""
    y, q = _check(observed, p)
    xs = np.asarray(x, dtype=bool)
    if xs.shape[-1:] != y.shape:
        raise ValueError("symbols must have one column per position")
    gain, loss, _ = _two_point(y, q)
    u = np.where(xs == (y == 1), gain, -loss)
    return np.where(y == ERASED, 0.0, u).sum(axis=-1)


def _block_distributions(
    width: NDArray[np.int64], log_hi: NDArray[np.float64], log_lo: NDArray[np.float64]
) -> list[NDArray[np.float64]]:
    """Dense distributions of the sums of blocks of up to 8 two-point variables (value 0 with
    probability exp(log_lo), ``width`` with exp(log_hi)), by enumerating each block's 256 cases."""
    pad = -width.size % _BLOCK
    width = np.append(width, np.zeros(pad, np.int64)).reshape(-1, _BLOCK)
    log_hi = np.append(log_hi, np.full(pad, -np.inf)).reshape(-1, _BLOCK)
    log_lo = np.append(log_lo, np.zeros(pad)).reshape(-1, _BLOCK)
    cases = (np.arange(1 << _BLOCK)[:, None] >> np.arange(_BLOCK)) & 1
    offsets = width @ cases.T
    weights = np.exp(np.where(cases[None], log_hi[:, None], log_lo[:, None]).sum(axis=2))
    return [
        np.bincount(o, weights=w, minlength=int(total) + 1)
        for o, w, total in zip(offsets, weights, width.sum(axis=1), strict=True)
    ]


class InnocentScore:
    """The distribution of an innocent recipient's score on one leak: bounds on its upper tail."""

    def __init__(self, observed: ArrayLike, p: ArrayLike) -> None:
        y, q = _check(observed, p)
        keep = y != ERASED
        self.positions = int(keep.sum())
        self._gain, self._loss, self._q = _two_point(y[keep], q[keep])
        log_mgf = np.zeros(_TILTS.size)
        for start in range(0, self.positions, _CHUNK):
            gain, loss, q = (v[start : start + _CHUNK] for v in (self._gain, self._loss, self._q))
            log_mgf += np.logaddexp(
                np.log(q) + np.outer(_TILTS, gain), np.log1p(-q) - np.outer(_TILTS, loss)
            ).sum(axis=1)
        self._log_mgf = log_mgf

    def chernoff(self, s: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """min over λ of E[exp(λS)]·exp(-λs) for each score s, and the index of the best tilt."""
        ss = np.atleast_1d(np.asarray(s, dtype=np.float64))
        best = np.empty(ss.size, dtype=np.intp)
        exponent = np.empty(ss.size)
        for start in range(0, ss.size, _CHUNK):
            rate = np.outer(ss[start : start + _CHUNK], _TILTS) - self._log_mgf
            best[start : start + _CHUNK] = rate.argmax(axis=1)
            exponent[start : start + _CHUNK] = rate.max(axis=1)
        return np.exp(-np.maximum(exponent, 0.0)), best

    def exact(self, s: ArrayLike, tilt: float) -> NDArray[np.float64]:
        """P(S ≥ s) for the score rounded up to a grid (so ≥ the true tail), computed under the
        exponential tilt ``tilt`` (tightest for s near the tilted mean), plus a floating-point
        allowance. Valid for every s and tilt ≥ 0."""
        ss = np.atleast_1d(np.asarray(s, dtype=np.float64))
        if self.positions == 0:
            return np.where(ss <= 0, 1.0, 0.0)
        span = float((self._gain + self._loss).sum())
        # rounding up costs about exp(tilt·m·step/2) and shifts the score by m·step/2 against a
        # spread of √m: a step keeping both near 10%, within the point budget
        target = min(0.2 / np.sqrt(self.positions), 0.2 / max(tilt * self.positions, 1e-12))
        step = max(
            2.0 ** np.floor(np.log2(min(target, span / _MIN_POINTS))),
            2.0 ** np.ceil(np.log2(span / _MAX_POINTS)),
            _FINEST_STEP,
        )
        hi = np.ceil(self._gain / step)
        lo = np.floor(self._loss / step)
        w_hi = np.log(self._q) + tilt * hi * step
        w_lo = np.log1p(-self._q) - tilt * lo * step
        log_z = np.logaddexp(w_hi, w_lo)
        parts = _block_distributions((hi + lo).astype(np.int64), w_hi - log_z, w_lo - log_z)
        levels = 0
        while len(parts) > 1:
            levels += 1
            pairs = [convolve(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
            parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
        tilted = parts[0]
        points = tilted.size
        # FFT convolution of probability vectors errs by about eps·log2(points) per entry and
        # level (convolving with a probability vector does not grow it): a generous margin
        allowance = 32 * np.finfo(float).eps * (levels + _BLOCK) * np.log2(points + 2)
        x = (np.arange(points) - lo.sum()) * step
        with np.errstate(divide="ignore"):
            log_terms = np.log(np.maximum(tilted, 0.0)) - tilt * x
        suffix = np.append(np.logaddexp.accumulate(log_terms[::-1])[::-1], -np.inf)
        # first grid point ≥ s, less one for safety against rounding in s/step
        k = np.clip(np.ceil(ss / step + lo.sum()).astype(np.int64) - 1, 0, points)
        log_m = log_z.sum()
        x_k = np.append(x, np.inf)[k]
        with np.errstate(over="ignore", invalid="ignore"):
            slack = np.where(k < points, np.exp(log_m - tilt * x_k) * (points - k) * allowance, 0.0)
        return np.minimum(1.0, np.exp(log_m + suffix[k]) + slack)

    def bound(self, s: ArrayLike, refine_below: float = 1.0) -> NDArray[np.float64]:
        """An upper bound on P(S_innocent ≥ s) for each s: the Chernoff bound, lowered to the
        exact grid tail (tilted at the Chernoff optimum) where the Chernoff bound is ≤
        ``refine_below`` and there are at most 20,000 observed positions."""
        ss = np.atleast_1d(np.asarray(s, dtype=np.float64))
        out, best = self.chernoff(ss)
        if self.positions > _MAX_EXACT_POSITIONS:
            return out
        refine = out <= refine_below
        for index in np.unique(best[refine]):
            sel = refine & (best == index)
            out[sel] = np.minimum(out[sel], self.exact(ss[sel], float(_TILTS[index])))
        return out


@dataclass(frozen=True)
class Received:
    """What one recipient received of the leak's positions: its symbols at ``where`` (indices
    into the leak's positions), or at every position when ``where`` is None."""

    symbols: NDArray[np.bool_]
    where: NDArray[np.intp] | None = None


@dataclass(frozen=True)
class Accusation:
    """One recipient's case: its score, the bound on accusing it if innocent (per case and
    corrected for the recipients tested), the verdict, and how much evidence there was."""

    recipient: str
    score: float
    fap: float
    corrected_fap: float
    accused: bool
    received: int
    observed: int


def accuse(
    observed: ArrayLike,
    p: ArrayLike,
    received: Mapping[str, Received],
    epsilon: float = 1e-6,
    tested: int | None = None,
) -> list[Accusation]:
    """Score every recipient on the positions it received and accuse those whose FAP, times the
    number tested (default: all in ``received``), is ≤ ``epsilon``; most suspect first."""
    y, q = _check(observed, p)
    if not 0 < epsilon < 1:
        raise ValueError("epsilon must lie in (0, 1)")
    n = len(received) if tested is None else tested
    if n < len(received):
        raise ValueError("tested must count at least the recipients scored")
    refine_below = 1.0 / max(n, 1)
    out: list[Accusation] = []
    everything = [name for name, r in received.items() if r.where is None]
    groups: list[tuple[list[str], NDArray[np.intp] | None]] = (
        [(everything, None)] if everything else []
    )
    groups += [([name], r.where) for name, r in received.items() if r.where is not None]
    for names, where in groups:
        if where is not None and (
            np.unique(where).size != len(where)
            or (len(where) and not 0 <= min(where) <= max(where) < y.size)
        ):
            raise ValueError("a recipient's positions must be distinct indices of the leak's")
        ys, ps = (y, q) if where is None else (y[where], q[where])
        x = np.stack([np.asarray(received[name].symbols, dtype=bool) for name in names])
        s = scores(ys, ps, x)
        innocent = InnocentScore(ys, ps)
        faps = innocent.bound(s, refine_below)
        for name, score, fap in zip(names, s, faps, strict=True):
            corrected = min(1.0, float(fap) * n)
            out.append(
                Accusation(
                    name,
                    float(score),
                    float(fap),
                    corrected,
                    corrected <= epsilon,
                    int(ys.size),
                    innocent.positions,
                )
            )
    return sorted(out, key=lambda a: (a.corrected_fap, a.fap, -a.score))
