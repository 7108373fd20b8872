"""The scale benchmark on noisy data: leaktrace verify and Splink 5 link the same generated leak
to the same master (``bench.noisy_world``), each in a fresh process one after the other, scored
against the generator's truth (precision, recall, F1), with wall and CPU seconds and peak
memory, and recall per kind of noise so a miss can be traced to its cause."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import polars as pl

from bench.measure import accuracy, timed, write_scanned
from bench.noisy_world import Noise, generate

# leaktrace as a user calls it, on the leak as ``leaktrace scan --out`` writes it.
_LEAKTRACE = """
import json, resource, sys, time
from leaktrace.verify import verify
t = time.perf_counter()
r = verify(sys.argv[1], sys.argv[2], engine="duckdb")
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": u.ru_utime + u.ru_stime,
  "peak_rss_mb": u.ru_maxrss / 1024, "stages": r.seconds}))
r.matches.select("rid", "mid").write_parquet(sys.argv[3])
"""

# Splink 5 (DuckDB backend) configured as its documentation recommends for personal data:
# derived columns first (birth date and ID parts, the mobile's last four digits), then
# NameComparison (Jaro-Winkler levels), DateOfBirthComparison, Damerau-Levenshtein levels
# for the resident ID and the mobile with a level for masked values whose visible parts
# agree, Jaro-Winkler levels for the address; the chance of a match from a deterministic
# rule, u from 1e8 random pairs, m by EM on two blocking rules; predictions from blocking
# rules that also reach typed-wrong pairs; above a match probability of 0.5, each leak
# record's best candidate.
_SPLINK = """
import json, resource, sys, time
import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
t = time.perf_counter()
con = duckdb.connect()
DERIVED = '''
  CASE WHEN regexp_full_match(substr(resident_id, 7, 8), '[0-9]{8}')
       THEN substr(resident_id, 7, 8) END AS id_birth,
  CASE WHEN regexp_full_match(substr(resident_id, 1, 6), '[0-9]{6}')
       THEN substr(resident_id, 1, 6) END AS id_div,
  CASE WHEN regexp_full_match(right(resident_id, 4), '[0-9]{3}[0-9X]')
       THEN right(resident_id, 4) END AS id_tail,
  CASE WHEN regexp_full_match(right(mobile, 4), '[0-9]{4}') THEN right(mobile, 4) END
       AS mobile_tail'''
con.execute(f'''CREATE TABLE l AS SELECT *, {DERIVED}, id_birth AS dob FROM (
  SELECT unique_id, "姓名" AS name, "身份证号" AS resident_id, "手机号" AS mobile,
         "地址" AS address FROM read_parquet('{sys.argv[1]}'))''')
con.execute(f'''CREATE TABLE m AS SELECT *, {DERIVED} FROM (
  SELECT "客户号" AS unique_id, "姓名" AS name, "身份证号" AS resident_id, "手机号" AS mobile,
         "地址" AS address, strftime("出生日期", '%Y%m%d') AS dob
  FROM read_parquet('{sys.argv[2]}'))''')

def masked(col, head, tail):
    return cll.CustomLevel(
        f"(contains({col}_l, '*') OR contains({col}_r, '*')) "
        f"AND left({col}_l, {head}) = left({col}_r, {head}) "
        f"AND right({col}_l, {tail}) = right({col}_r, {tail})",
        label_for_charts="masked, visible parts agree")

def typed(col, mask_head, mask_tail):
    return cl.CustomComparison(output_column_name=col, comparison_levels=[
        cll.NullLevel(col), cll.ExactMatchLevel(col),
        cll.DamerauLevenshteinLevel(col, 1), cll.DamerauLevenshteinLevel(col, 2),
        masked(col, mask_head, mask_tail), cll.ElseLevel()])

settings = SettingsCreator(
    link_type="link_only",
    comparisons=[
        cl.NameComparison("name"),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y%m%d"),
        typed("resident_id", 6, 2),
        typed("mobile", 3, 4),
        cl.JaroWinklerAtThresholds("address", [0.9, 0.7]),
    ],
    blocking_rules_to_generate_predictions=[
        block_on("resident_id"),
        block_on("mobile"),
        block_on("name", "dob"),
        block_on("name", "id_div"),
        block_on("id_div", "id_tail"),
        block_on("dob", "mobile_tail"),
    ],
    retain_intermediate_calculation_columns=False,
)
db = DuckDBAPI(connection=con)
linker = Linker([db.register("l"), db.register("m")], settings, log_level=40)
linker.training.estimate_probability_two_random_records_match(
    [block_on("resident_id")], recall=0.8)
linker.training.estimate_u_using_random_sampling(max_pairs=1e8)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("name", "dob"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("mobile"))
pred = linker.inference.predict(threshold_match_probability=0.5)
best = con.sql(
    f"SELECT rid, mid FROM (SELECT unique_id_l AS rid, unique_id_r AS mid, row_number() OVER "
    f"(PARTITION BY unique_id_l ORDER BY match_weight DESC, unique_id_r) AS rn "
    f"FROM {pred.physical_name} WHERE source_dataset_l <> source_dataset_r) WHERE rn = 1"
).pl()
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": u.ru_utime + u.ru_stime,
  "peak_rss_mb": u.ru_maxrss / 1024}))
best.write_parquet(sys.argv[3])
"""
SPLINK_LIMIT_S = 3600  # stop Splink after an hour (it took 47 minutes at 1M x 10M) ...
SPLINK_LIMIT_MB = 20_000  # ... or 20 GB of resident memory, and record that it did not finish
SEED = 14


def _inputs(n_leak: int, n_master: int, work: Path) -> tuple[Path, Path, Path, Path]:
    """Generated data (kept in ``work`` between runs) and each linker's copy of the leak:
    the scanned table for leaktrace, the same columns with a row number for Splink."""
    d = work / f"noisy_{n_leak}_{n_master}_{SEED}"
    data = generate(n_master, n_leak, SEED, d) if not (d / "truth.parquet").exists() else None
    master, leak, truth = d / "master.parquet", d / "leak.parquet", d / "truth.parquet"
    if data is not None or not (d / "leak_scanned.parquet").exists():
        df = pl.read_parquet(leak)
        write_scanned(
            df.select(
                pl.col("姓名").alias("name"),
                pl.col("身份证号").alias("resident_id"),
                pl.col("手机号").alias("mobile"),
                pl.lit(None, pl.String).alias("card_no"),
                pl.col("地址").alias("address"),
            ),
            d / "leak_scanned.parquet",
        )
        df.with_row_index("unique_id").with_columns(
            pl.col("unique_id").cast(pl.Int64)
        ).write_parquet(d / "leak_splink.parquet")
    return master, truth, d / "leak_scanned.parquet", d / "leak_splink.parquet"


def recall_by_noise(matches: Path, truth: Path) -> dict[str, float]:
    """Of the customers each noise touched (and of those none touched), the share linked to
    the right customer."""
    t = pl.read_parquet(truth).filter(pl.col("customer_id").is_not_null())
    kinds = [c for c in t.columns if t[c].dtype == pl.Boolean and c != "namesake"]
    got = t.join(pl.read_parquet(matches), on="rid", how="left").with_columns(
        (pl.col("mid") == pl.col("customer_id")).fill_null(False).alias("right"),
        (~pl.any_horizontal(kinds)).alias("none"),
    )
    return {
        k: float(got.filter(pl.col(k))["right"].mean()) for k in ("none", *kinds) if got[k].any()
    }


def noisy_scale(n_leak: int, n_master: int, work: Path) -> dict:
    """Both linkers on one generated pair: time, CPU, peak memory, accuracy, recall by noise."""
    master, truth, leak_lt, leak_sp = _inputs(n_leak, n_master, work)
    tr = pl.read_parquet(truth, columns=["rid", "customer_id"])
    out: dict = {"leak_rows": n_leak, "master_rows": n_master, "noise": asdict(Noise())}
    runs = {
        "leaktrace": (_LEAKTRACE, leak_lt, None, None),
        "splink": (_SPLINK, leak_sp, SPLINK_LIMIT_S, SPLINK_LIMIT_MB),
    }
    for name, (script, leak, limit_s, limit_mb) in runs.items():
        matches = work / f"noisy_{name}.parquet"
        res = timed(script, [str(leak), str(master), str(matches)], limit_s, limit_mb)
        if res["finished"]:
            res |= accuracy(matches, tr)
            res["recall_by_noise"] = recall_by_noise(matches, truth)
        if "stages" in res:
            res["stages"] = {k: round(v, 1) for k, v in res["stages"].items()}
        out[name] = res
    return out
