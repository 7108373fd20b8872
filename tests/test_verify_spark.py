"""DuckDB and Spark run the same generated SQL and give identical results (never skipped:
without pyspark the run fails, naming the extra to install)."""

from __future__ import annotations

from pathlib import Path

from same_report import assert_same_report

from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify


def test_duckdb_and_spark_agree(tmp_path: Path) -> None:
    world = make_world(5000, seed=21, out=tmp_path / "world")
    leak = make_leak(world, "stale", seed=4, reformat=True, pad=0.2, size=1.0)
    path = write_leak(leak, tmp_path / "leak.csv", "csv")
    duck = verify(path, world.path, engine="duckdb")
    spark = verify(path, world.path, engine="spark")
    assert_same_report(duck, spark, "engine")
    assert duck.verdict.label == "mixed" and duck.linkage is not None and duck.linkage.linked > 0
