"""The README's examples are real: its scan output is what the command prints on the demo's
leaks, and its Python snippet runs."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.demo import CUSTOMERS, SEED
from leaktrace.synth.bundle import synth_to_dir

README = Path(__file__).resolve().parents[1] / "README.md"


def _console_blocks() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ (leaktrace [^\n]+)\n(.*?)```", text, re.S)
    assert len(blocks) >= 2, "README lacks its scan and verify examples"
    return [(cmd, out.splitlines()) for cmd, out in blocks]


def test_readme_console_output_is_what_the_commands_print(tmp_path, monkeypatch):
    synth_to_dir(tmp_path / "demo-out", CUSTOMERS, seed=SEED)
    monkeypatch.chdir(tmp_path)
    timing = re.compile(r"^Scanned .* in [0-9.]+ s")
    for command, expected in _console_blocks():
        result = CliRunner().invoke(app, command.split()[1:], env={"COLUMNS": "100"})
        assert result.exit_code == 0, result.output
        got = [ln for ln in result.stdout.splitlines() if not timing.match(ln)]
        assert got == [ln for ln in expected if not timing.match(ln)], command
    assert (tmp_path / "leak.parquet").exists()
    assert (tmp_path / "verify.html").exists()


def test_readme_python_snippet_runs(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", text, re.S)
    assert snippet
    code = snippet.group(1)
    dump = tmp_path / "dump.csv"
    dump.write_text("姓名,身份证号\n张伟,11010519491231002X\n", encoding="utf-8")
    (tmp_path / "post.txt").write_text("王芳 13812345678\n", encoding="utf-8")
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
