"""bench/RESULTS.md: every benchmark appends one dated section naming the machine and command."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine(packages: tuple[str, ...] = ("leaktrace", "polars", "duckdb")) -> str:
    """Cores, CPU model, memory, Python and the versions of ``packages``, for the record."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ram = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    versions = []
    for pkg in packages:
        try:
            versions.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            versions.append(f"{pkg} not installed")
    return (
        f"{os.cpu_count()} cores, {cpu}, {ram} RAM; Python {platform.python_version()}; "
        + ", ".join(versions)
    )


def header(title: str, packages: tuple[str, ...] = ("leaktrace", "polars", "duckdb")) -> str:
    """The start of a section: title with the UTC date and time, the machine, the command run."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    command = " ".join(["python -m", spec.name if spec else Path(sys.argv[0]).stem, *sys.argv[1:]])
    return f"## {now} — {title}\n\n- Machine: {machine(packages)}\n- Command: `{command}`\n"


def append_section(section: str, path: Path = RESULTS) -> None:
    """Append ``section`` to RESULTS.md atomically: read, add, write a temporary file, rename."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(old.rstrip("\n") + "\n\n" + section.strip("\n") + "\n", encoding="utf-8")
    os.replace(tmp, path)
