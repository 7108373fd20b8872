"""Bad input gives a clear InputError, never a verdict."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from leaktrace.errors import InputError, LeaktraceError
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vin") / "world"
    make_world(2000, seed=4, out=out)
    return out


def test_no_identifier_column(tmp_path: Path, world_dir: Path) -> None:
    p = tmp_path / "notes.csv"
    p.write_text("商品,价格\n苹果,3\n香蕉,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="resident IDs"):
        verify(p, world_dir)


def test_empty_file(tmp_path: Path, world_dir: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(LeaktraceError):
        verify(p, world_dir)


def test_master_missing_columns(tmp_path: Path, world_dir: Path) -> None:
    from leaktrace.synth.world import World

    leak = make_leak(World.open(world_dir), "share", seed=1)
    path = write_leak(leak, tmp_path / "l.csv", "csv")
    pl.DataFrame({"customer_id": [1, 2], "segment": ["a", "b"]}).write_parquet(
        tmp_path / "m.parquet"
    )
    with pytest.raises(InputError, match="columns to link on"):
        verify(path, tmp_path / "m.parquet")
    pl.DataFrame({"name": ["张三"], "mobile": ["13800138000"]}).write_csv(tmp_path / "m.csv")
    with pytest.raises(InputError, match="customer id"):
        verify(path, tmp_path / "m.csv")


def test_master_as_csv_and_duckdb(tmp_path: Path, world_dir: Path) -> None:
    """The same verification from a CSV master and from a DuckDB file."""
    import duckdb

    from leaktrace.synth.world import World

    world = World.open(world_dir)
    leak = make_leak(world, "share", seed=2, size=1.0, columns=["name", "resident_id", "mobile"])
    path = write_leak(leak, tmp_path / "l.csv", "csv")
    cust = world.customers.collect()
    cust.write_csv(tmp_path / "m.csv")
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    con.register("c", cust.to_arrow())
    con.execute("CREATE TABLE customers AS SELECT * FROM c")
    con.close()
    a = verify(path, tmp_path / "m.csv")
    b = verify(path, tmp_path / "m.duckdb")
    assert sorted(int(c) for c in a.customers) == b.customers
    assert len(b.customers) == leak.rows.height
