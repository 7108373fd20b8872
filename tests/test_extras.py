"""Spark and PostgreSQL are extras: a missing one is named with the command that installs it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from leaktrace import verify
from leaktrace.extras import MissingExtraError, require
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify.engines import make_engine


def _uninstall(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Make ``package`` and its loaded modules unimportable, as if it were not installed."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)


@pytest.mark.parametrize(
    "module, extra",
    [("pyspark.sql", "spark"), ("psycopg", "postgres"), ("psycopg.sql", "postgres")],
)
def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch, module: str, extra: str) -> None:
    assert require(module, extra).__name__ == module  # installed: the module itself
    _uninstall(monkeypatch, module.split(".")[0])
    with pytest.raises(MissingExtraError, match=rf"pip install 'leaktrace\[{extra}\]'"):
        require(module, extra)


def test_an_installed_package_missing_its_own_dependency_is_not_called_an_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A broken installation shows its own error: the extra is there, something under it is not."""
    (tmp_path / "half_installed.py").write_text("import its_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="its_missing_dependency"):
        require("half_installed", "spark")


@pytest.fixture(scope="module")
def world_and_leak(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small bank's world and a partner's share of it, as a CSV named with brackets."""
    tmp = tmp_path_factory.mktemp("extras")
    world = make_world(300, seed=2, out=tmp / "world")
    return world.path, write_leak(make_leak(world, "share", seed=1), tmp / "leak[1].csv", "csv")


def test_spark_engine_without_pyspark_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, world_and_leak: tuple[Path, Path]
) -> None:
    _uninstall(monkeypatch, "pyspark")
    with pytest.raises(MissingExtraError, match=r"leaktrace\[spark\]"):
        make_engine("spark")
    world, leak = world_and_leak
    with pytest.raises(MissingExtraError, match=r"pip install 'leaktrace\[spark\]'"):
        verify(leak, world, engine="spark")


def test_the_command_line_prints_the_extra_with_its_brackets(
    monkeypatch: pytest.MonkeyPatch, world_and_leak: tuple[Path, Path]
) -> None:
    """Error texts are printed as they are, not read as rich markup ('[spark]' kept)."""
    from typer.testing import CliRunner

    from leaktrace.cli import app

    world, leak = world_and_leak
    _uninstall(monkeypatch, "pyspark")
    res = CliRunner().invoke(
        app, ["verify", str(leak), "--against", str(world), "--engine", "spark"]
    )
    assert res.exit_code == 1
    assert "pip install 'leaktrace[spark]'" in " ".join(res.output.split())


def test_a_postgresql_master_without_psycopg_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, world_and_leak: tuple[Path, Path]
) -> None:
    _, leak = world_and_leak
    _uninstall(monkeypatch, "psycopg")
    with pytest.raises(MissingExtraError, match=r"pip install 'leaktrace\[postgres\]'"):
        verify(leak, "postgresql://bank@localhost/core", master_table="customers")
