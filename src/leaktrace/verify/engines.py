"""SQL engines the linkage runs on: DuckDB embedded (default) and Apache Spark (PySpark).

Both take the same statements, written once in DuckDB's dialect and transpiled by sqlglot
(:mod:`leaktrace.verify.sql`); each engine only knows how to load a Parquet file or an Arrow
table under a name, materialise a query under a name, and fetch a result as Arrow.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leaktrace.errors import InputError, Verbatim
from leaktrace.extras import require
from leaktrace.i18n import N_
from leaktrace.verify.sql import transpile

ENGINES = ("duckdb", "spark")


class Engine(ABC):
    """A place to run the linkage SQL. Statements arrive in DuckDB's dialect."""

    name: str

    @abstractmethod
    def load_parquet(self, table: str, path: Path) -> None:
        """Make the Parquet file ``path`` queryable as ``table`` (read lazily where possible)."""

    @abstractmethod
    def load_arrow(self, table: str, data: pa.Table) -> None:
        """Make a small Arrow table queryable as ``table``."""

    @abstractmethod
    def create(self, table: str, sql: str) -> None:
        """Materialise the result of ``sql`` as ``table`` (replacing one of that name)."""

    @abstractmethod
    def view(self, table: str, sql: str) -> None:
        """Name the query ``sql`` as ``table`` without materialising it."""

    @abstractmethod
    def fetch(self, sql: str) -> pa.Table:
        """Run ``sql`` and return its whole result."""

    @abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""


class DuckEngine(Engine):
    """DuckDB in-process; spills to a temporary directory when joins outgrow memory."""

    name = "duckdb"

    def __init__(self, memory_limit: str = "3GB", threads: int | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="leaktrace-duck-")
        import duckdb  # on first use: `import leaktrace` need not load it

        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self._tmp.name}'")
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def load_parquet(self, table: str, path: Path) -> None:
        p = str(path).replace("'", "''")
        self.con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet('{p}')")

    def load_arrow(self, table: str, data: pa.Table) -> None:
        self.con.register(f"_arrow_{table}", data)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _arrow_{table}")
        self.con.unregister(f"_arrow_{table}")

    def create(self, table: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")

    def view(self, table: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {sql}")

    def fetch(self, sql: str) -> pa.Table:
        # DuckDB 2.0: read a result completely before reusing the connection.
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()


@cache
def _spark_scratch() -> tempfile.TemporaryDirectory[str]:
    """Spark's scratch space (shuffle and block files) for this process: a session is shared
    by every engine (``getOrCreate``) and keeps the directory it started with, so the
    directory lives as long as the process, not as one engine."""
    return tempfile.TemporaryDirectory(prefix="leaktrace-spark-scratch-")


class SparkEngine(Engine):
    """PySpark, ``local[*]`` unless a master URL is given; results are Parquet-backed temp views."""

    name = "spark"

    def __init__(self, master: str = "local[*]") -> None:
        spark_sql = require("pyspark.sql", "spark")
        self._tmp = tempfile.TemporaryDirectory(prefix="leaktrace-spark-")
        self.spark = (
            spark_sql.SparkSession.builder.master(master)
            .appName("leaktrace-verify")
            .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.driver.memory", "2g")
            .config("spark.local.dir", _spark_scratch().name)
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        self._n = 0

    def load_parquet(self, table: str, path: Path) -> None:
        self.spark.read.parquet(str(path)).createOrReplaceTempView(table)

    def load_arrow(self, table: str, data: pa.Table) -> None:
        self._n += 1
        path = Path(self._tmp.name) / f"{table}_{self._n}.parquet"
        pq.write_table(data, path)
        self.load_parquet(table, path)

    def create(self, table: str, sql: str) -> None:
        # Written to Parquet and read back: this materialises now, as DuckDB does, and cuts
        # the plan's lineage (cached plans nest and their descriptions grow without bound).
        self._n += 1
        path = Path(self._tmp.name) / f"{table}_{self._n}.parquet"
        self.spark.sql(transpile(sql, "spark")).write.parquet(str(path))
        self.load_parquet(table, path)

    def view(self, table: str, sql: str) -> None:
        self.spark.sql(transpile(sql, "spark")).createOrReplaceTempView(table)

    def fetch(self, sql: str) -> pa.Table:
        return self.spark.sql(transpile(sql, "spark")).toArrow()

    def close(self) -> None:
        self.spark.catalog.clearCache()
        self._tmp.cleanup()


def make_engine(name: str) -> Engine:
    """The engine called ``name`` (see ENGINES)."""
    if name == "duckdb":
        return DuckEngine()
    if name == "spark":
        return SparkEngine()
    raise InputError("--engine", N_("one of {engines}"), Verbatim(name), engines=", ".join(ENGINES))
