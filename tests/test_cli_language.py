"""The command line in Chinese and English: help, messages and errors in the language asked
for (``--lang`` anywhere, else the locale), nothing left untranslated, and results on a pipe
never cut to 80 columns."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leaktrace import i18n

# Three English words in a row: a sentence nobody translated. Option names, metavars, example
# command lines and the names of formats, tools and roles are not messages and are removed
# before looking.
_ENGLISH = re.compile(r"\b[A-Za-z]{2,}\s+[a-z]{2,}\s+[a-z]{2,}\b")
_NOT_MESSAGES = re.compile(
    r"^.*\bleaktrace (?:scan|verify|synth|share)\b.*$|--[\w-]+|<[^>]+>|\[[\w|]+\]|\S+=\S+|\S*/\S*|~/\S+"
    r"|\b(?:local\[\*\]|[A-Z][A-Z0-9_]+)\b",
    re.M,
)


def english_left(text: str) -> list[str]:
    """Runs of English words in ``text`` once names, options and examples are taken out."""
    return _ENGLISH.findall(_NOT_MESSAGES.sub(" ", text))


@pytest.fixture
def cli_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Import the CLI afresh under a locale (its help is translated at import)."""
    import leaktrace.cli

    def load(locale: str) -> object:
        monkeypatch.setenv("LANG", locale)
        monkeypatch.delenv("LANGUAGE", raising=False)
        monkeypatch.delenv("LC_ALL", raising=False)
        monkeypatch.delenv("LC_MESSAGES", raising=False)
        monkeypatch.setattr(sys, "argv", ["leaktrace"])
        return importlib.reload(leaktrace.cli)

    yield load
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setattr(sys, "argv", ["leaktrace"])
    importlib.reload(leaktrace.cli)
    i18n.set_language("en")


@pytest.mark.parametrize("command", [[], ["scan"], ["verify"], ["synth"]])
def test_help_in_chinese_has_no_english_sentence(cli_in, command: list[str]) -> None:
    cli = cli_in("zh_CN.UTF-8")
    out = CliRunner().invoke(cli.app, [*command, "--help"], env={"COLUMNS": "100"})
    assert out.exit_code == 0, out.output
    assert "用法" in out.stdout and "显示本帮助并退出" in out.stdout
    assert english_left(out.stdout) == []
    assert i18n.misses("zh") == set()


def test_help_in_english_follows_the_locale(cli_in) -> None:
    cli = cli_in("en_US.UTF-8")
    out = CliRunner().invoke(cli.app, ["verify", "--help"], env={"COLUMNS": "100"})
    assert "Usage:" in out.stdout and "Is this leak real" in out.stdout
    assert not re.search(r"[\u4e00-\u9fff]{4}", out.stdout.replace("客户号,field=字段", ""))


def test_flags_show_no_type_and_every_option_has_help(cli_in) -> None:
    cli = cli_in("C.UTF-8")
    out = CliRunner().invoke(cli.app, ["verify", "--help"], env={"COLUMNS": "160"})
    assert "<bool>" not in out.stdout
    assert re.search(r"--json\s+Print the result as JSON", out.stdout)


def test_lang_is_taken_anywhere_on_the_line(tmp_path: Path) -> None:
    missing = tmp_path / "没有这个文件.csv"
    for argv in (
        ["--lang", "zh", "scan", str(missing)],
        ["scan", str(missing), "--lang", "zh"],
        ["scan", "--lang=zh", str(missing)],
    ):
        run = subprocess.run(
            [sys.executable, "-c", "from leaktrace.cli import main; main()", *argv],
            capture_output=True,
            text=True,
            env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
        )
        assert run.returncode == 1, argv
        assert "错误：" in run.stderr and "应为已存在的文件或文件夹" in run.stderr, argv
        assert str(missing) in run.stderr.replace("\n", "")


def test_a_wrong_lang_is_wrong_usage() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from leaktrace.cli import main; main()", "--lang", "fr"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "--lang" in run.stderr


def test_usage_errors_in_chinese(cli_in) -> None:
    cli = cli_in("zh_CN.UTF-8")
    out = CliRunner().invoke(cli.app, ["verify"], env={"COLUMNS": "100"})
    assert out.exit_code == 2
    assert "缺少参数" in out.output and "运行" in out.output
    out = CliRunner().invoke(cli.app, ["verify", "x.csv", "--nope"], env={"COLUMNS": "100"})
    assert out.exit_code == 2 and "没有选项" in out.output


def test_version() -> None:
    from importlib.metadata import version

    run = subprocess.run(
        [sys.executable, "-c", "from leaktrace.cli import main; main()", "--version"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0
    assert run.stdout.strip() == f"leaktrace {version('leaktrace')}"


def test_results_on_a_pipe_are_not_cut_to_80_columns(tmp_path: Path) -> None:
    # A long folder and file name, as case folders are named, must reach the file whole.
    folder = tmp_path / ("案件-2026-12-06-某银行信用卡中心客户信息泄露-第三次补充材料" * 2)
    folder.mkdir()
    leak = folder / "客户信息_导出_全量_含身份证号手机号银行卡号_20261201.csv"
    leak.write_text("姓名,手机号\n张三,13800138000\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", "from leaktrace.cli import main; main()", "scan", str(leak)],
        capture_output=True,
        text=True,
        env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    assert str(leak) in run.stdout
    assert "…" not in run.stdout


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leaktrace.synth.bundle import synth_to_dir

    out = tmp_path_factory.mktemp("world")
    synth_to_dir(out, 3000, seed=11)
    return out


@pytest.mark.parametrize("leak", ["old_snapshot_gbk.csv", "padded_dump.sql", "fabricated.json"])
def test_a_verify_run_in_chinese_leaves_nothing_in_english(
    cli_in, small_world: Path, leak: str, tmp_path: Path
) -> None:
    cli = cli_in("zh_CN.UTF-8")
    args = [
        "verify",
        str(small_world / "leaks" / leak),
        "--against",
        str(small_world / "world"),
        "--records",
        str(tmp_path / "records.csv"),
        "--report",
        str(tmp_path / "report.html"),
    ]
    out = CliRunner().invoke(cli.app, args, env={"COLUMNS": "120"})
    assert out.exit_code == 0, out.output
    assert "结论" in out.stdout
    # Signal names like "MOD 11-2" and file names stay as they are; no English sentence does.
    assert english_left(out.stdout) == [], out.stdout
    assert i18n.misses("zh") == set()
    header = (tmp_path / "records.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "客户号" in header and english_left(header) == []
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<html lang=zh-CN>" in page and re.search(r"id=\"?evidence", page)


def test_a_verify_run_in_english_is_in_english(cli_in, small_world: Path) -> None:
    cli = cli_in("en_US.UTF-8")
    args = ["verify", str(small_world / "leaks" / "padded_dump.sql"), "--against"]
    out = CliRunner().invoke(cli.app, [*args, str(small_world / "world")])
    assert out.exit_code == 0, out.output
    assert "Verdict" in out.stdout
    assert not re.search(r"[\u4e00-\u9fff]{2}", out.stdout)
    assert i18n.misses("en") == set()
