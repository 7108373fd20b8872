"""Benchmark of ``leaktrace.synth``: world generation time and peak memory (1M and 10M customers;
target 10M in under 5 minutes and 4 GB), and realism measured against the published tables:
surname frequencies, and age, sex and province shares of the 2020 census.

Run ``python -m bench.synth_bench`` (appends a dated section to bench/RESULTS.md) or call
``run(quick=True)`` for a small, fast pass.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from bench.results import append_section, header
from leaktrace.synth.people import MAX_AGE, MIN_AGE
from leaktrace.synth.tables import places, population

_GENERATE = """
import json, resource, sys, time
from pathlib import Path
from leaktrace.synth.world import make_world
t = time.perf_counter()
make_world(int(sys.argv[1]), seed=0, out=Path(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generate(n: int, out: Path) -> dict:
    """Generate a world of ``n`` customers in a fresh process; its time and peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-c", _GENERATE, str(n), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return {"customers": n} | json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(observed: dict[str, int], expected: dict[str, float]) -> dict:
    """Total variation distance and chi-square per degree of freedom of counts vs shares."""
    keys = sorted(set(observed) | set(expected))
    obs = np.array([observed.get(k, 0) for k in keys], dtype=float)
    exp_share = np.array([expected.get(k, 0.0) for k in keys])
    exp_share = exp_share / exp_share.sum()
    n = obs.sum()
    tvd = 0.5 * np.abs(obs / n - exp_share).sum()
    ok = exp_share > 0
    chi2 = float((((obs - n * exp_share) ** 2)[ok] / (n * exp_share[ok])).sum())
    return {
        "tvd": round(float(tvd), 5),
        "chi2_per_df": round(chi2 / max(1, ok.sum() - 1), 3),
        "categories": int(ok.sum()),
        "n": int(n),
    }


def realism(customers: pl.LazyFrame, as_of: dt.date) -> dict:
    """Surname, age band, sex and province distributions of a world against the references."""
    pop = population()
    compound = {s for s in pop.surnames if len(s) == 2}
    df = customers.select("name", "sex", "birth_date", "province").collect()
    sur = df.select(
        pl.when(pl.col("name").str.slice(0, 2).is_in(list(compound)))
        .then(pl.col("name").str.slice(0, 2))
        .otherwise(pl.col("name").str.slice(0, 1))
        .alias("s")
    )["s"]
    surname = _compare(
        dict(sur.value_counts().iter_rows()),
        dict(zip(pop.surnames, pop.surname_weights, strict=True)),
    )
    top = sur.value_counts(sort=True).head(5)
    surname["top5_observed_pct"] = {s: round(100 * c / df.height, 2) for s, c in top.iter_rows()}

    born = df["birth_date"]
    # Completed years at as_of: years between, minus one if the birthday is still to come.
    age = (
        as_of.year
        - born.dt.year().cast(pl.Int32)
        - (
            (born.dt.month().cast(pl.Int32) * 100 + born.dt.day()) > as_of.month * 100 + as_of.day
        ).cast(pl.Int32)
    )
    band = np.searchsorted(pop.age_to, age.to_numpy())
    expected_age: dict[str, float] = {}
    for i, (lo, hi) in enumerate(zip(pop.age_from, pop.age_to, strict=True)):
        covered = max(0, min(hi, MAX_AGE) - max(lo, MIN_AGE) + 1)
        if covered:
            expected_age[f"{lo}-{hi}"] = pop.age_weights[i] * covered / (hi - lo + 1)
    labels = [f"{pop.age_from[b]}-{pop.age_to[b]}" for b in range(len(pop.age_to))]
    observed_age: dict[str, int] = {}
    for b, c in zip(*np.unique(band, return_counts=True), strict=True):
        observed_age[labels[b]] = int(c)

    male = float((df["sex"] == "M").mean())
    prov = _compare(
        dict(df["province"].value_counts().iter_rows()),
        dict(zip(places().province_names, places().province_weights, strict=True)),
    )
    return {
        "surname": surname,
        "age_band": _compare(observed_age, expected_age),
        "sex": {
            "male_share": round(male, 5),
            "census_male_share": round(pop.male_share, 5),
            "abs_diff": round(abs(male - pop.male_share), 5),
        },
        "province": prov,
    }


def run(quick: bool) -> dict:
    """Generation figures and realism; quick: 200k customers only, else 1M and 10M."""
    sizes = [200_000] if quick else [1_000_000, 10_000_000]
    out: dict = {"generation": [], "date": dt.date.today().isoformat()}
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp:
        for n in sizes:
            world_dir = Path(tmp) / f"w{n}"
            out["generation"].append(generate(n, world_dir))
            if n == sizes[0]:
                meta = json.loads((world_dir / "world.json").read_text(encoding="utf-8"))
                out["realism"] = realism(
                    pl.scan_parquet(world_dir / "customers.parquet"),
                    dt.date.fromisoformat(meta["as_of"]),
                )
                out["realism"]["customers"] = n
    return out


def _markdown(res: dict) -> str:
    lines = [
        header("synth benchmark"),
        "| customers | seconds | peak RSS (MB) |",
        "|---:|---:|---:|",
    ]
    for g in res["generation"]:
        lines.append(f"| {g['customers']:,} | {g['seconds']:.1f} | {g['peak_rss_mb']:.0f} |")
    r = res["realism"]
    lines += [
        "",
        f"Realism on {r['customers']:,} customers (TVD = total variation distance; "
        "chi²/df against the reference shares):",
        "",
        "| measure | reference | TVD | chi²/df |",
        "|---|---|---:|---:|",
        f"| surname | surnames.csv (公安部 household registration) | "
        f"{r['surname']['tvd']} | {r['surname']['chi2_per_df']} |",
        f"| age band (18-90) | census 2020 5-year bands | {r['age_band']['tvd']} | "
        f"{r['age_band']['chi2_per_df']} |",
        f"| province | census 2020 province populations | {r['province']['tvd']} | "
        f"{r['province']['chi2_per_df']} |",
        "",
        f"Male share {r['sex']['male_share']} vs census {r['sex']['census_male_share']} "
        f"(sex ratio 105.07). Top surnames observed (%): "
        f"{', '.join(f'{k} {v}' for k, v in r['surname']['top5_observed_pct'].items())}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Full run; prints JSON and appends a dated section to bench/RESULTS.md."""
    res = run(quick="--quick" in sys.argv)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    append_section(_markdown(res))


if __name__ == "__main__":
    main()
