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


def _console_block() -> tuple[str, list[str]]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ (leaktrace scan [^\n]+)\n(.*?)```", text, re.S)
    assert block, "README has no leaktrace scan example"
    return block.group(1), block.group(2).splitlines()


def test_readme_scan_output_is_what_the_command_prints(tmp_path, monkeypatch):
    synth_to_dir(tmp_path / "demo-out", CUSTOMERS, seed=SEED)
    monkeypatch.chdir(tmp_path)
    command, expected = _console_block()
    args = command.split()[1:]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    got = result.stdout.splitlines()
    # every line but the timing one must match exactly
    timing = re.compile(r"^Scanned .* in [0-9.]+ s")
    assert [ln for ln in got if not timing.match(ln)] == [
        ln for ln in expected if not timing.match(ln)
    ]
    assert (tmp_path / "leak.parquet").exists()


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
