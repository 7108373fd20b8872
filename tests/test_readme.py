"""The README's examples are real: its scan and verify output is what the commands print on the
demo's leaks, and its Python snippet runs as written (``from leaktrace import verify`` too)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leaktrace import Label, VerifyReport, i18n
from leaktrace.cli import app
from leaktrace.demo import CUSTOMERS, SEED
from leaktrace.synth.bundle import synth_to_dir

README = Path(__file__).resolve().parents[1] / "README.md"


def _console_blocks() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ (leaktrace [^\n]+)\n(.*?)```", text, re.S)
    assert len(blocks) >= 2, "README lacks its scan and verify examples"
    return [(cmd, out.splitlines()) for cmd, out in blocks]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``make demo`` writes (world and leaks), made once for the README's examples."""
    out = tmp_path_factory.mktemp("readme") / "demo-out"
    synth_to_dir(out, CUSTOMERS, seed=SEED)
    return out


def test_readme_console_output_is_what_the_commands_print(tmp_path, monkeypatch, demo):
    (tmp_path / "demo-out").symlink_to(demo)
    monkeypatch.chdir(tmp_path)
    timing = re.compile(r"^Scanned .* in [0-9.]+ s")
    for command, expected in _console_blocks():
        result = CliRunner().invoke(app, command.split()[1:], env={"COLUMNS": "100"})
        i18n.set_language("en")  # an example with --lang zh sets it for the process
        assert result.exit_code == 0, result.output
        got = [ln for ln in result.stdout.splitlines() if not timing.match(ln)]
        assert got == [ln for ln in expected if not timing.match(ln)], command
    assert (tmp_path / "leak.parquet").exists()
    assert (tmp_path / "verify.html").exists()
    assert (tmp_path / "records.xlsx").exists()


def test_readme_python_snippet_runs(tmp_path, monkeypatch, demo):
    text = README.read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", text, re.S)
    assert snippet
    code = snippet.group(1)
    dump = tmp_path / "dump.csv"
    dump.write_text("姓名,身份证号\n张伟,11010519491231002X\n", encoding="utf-8")
    (tmp_path / "post.txt").write_text("王芳 13812345678\n", encoding="utf-8")
    (tmp_path / "demo-out").symlink_to(demo)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    assert scope["result"].kinds["resident_id"].valid == 1
    assert (tmp_path / "leak.parquet").exists()
    spans = [(s.kind, s.start, s.end, s.value) for s in scope["spans"]]
    assert spans == [("person_name", 2, 4, "王芳"), ("mobile", 7, 18, "13912345678")]
    assert [(s.kind, s.value) for s in scope["each"][0]] == [
        ("person_name", "王芳"),
        ("mobile", "13812345678"),
    ]
    report = scope["report"]
    assert isinstance(report, VerifyReport) and report.verdict.label == Label.MIXED
    ours = report.verdict.shares["ours"]
    assert ours.records == 300 and round(ours.low, 3) == 0.725 and round(ours.high, 3) == 0.808


def test_public_names_are_the_functions_and_the_modules_stay_importable():
    import inspect

    import leaktrace
    from leaktrace import scan, verify
    from leaktrace.scan import run
    from leaktrace.verify import api
    from leaktrace.verify.result import VerifyReport as Report

    assert inspect.isfunction(verify) and inspect.isfunction(scan)
    assert leaktrace.verify is api.verify and leaktrace.scan is run.scan
    assert leaktrace.VerifyReport is Report
