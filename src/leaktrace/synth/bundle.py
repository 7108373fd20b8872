"""``synth_to_dir``: a world plus a set of leaks of every kind, each file with its ground truth
beside it; what ``leaktrace synth`` writes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from leaktrace.synth.leaks import Leak, make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import FORUM_SAMPLE, write_leak

# (file name, leak kind, options, format, encoding)
PLAN = [
    ("share_subset.csv", "share", {}, "csv", "utf-8"),
    ("insider_export.xlsx", "employee", {}, "xlsx", "utf-8"),
    ("merged_resale.jsonl", "union", {"n_sources": 3}, "jsonl", "utf-8"),
    ("old_snapshot_gbk.csv", "stale", {"reformat": True}, "csv", "gbk"),
    ("padded_dump.sql", "padded", {}, "mysql", "utf-8"),
    ("reformatted_pg.sql", "reformatted", {"pad": 0.1}, "postgres", "utf-8"),
    ("fabricated.json", "fabricated", {"invalid": 0.3}, "json", "utf-8"),
    ("forum_post.txt", "share", {"reformat": True}, "forum", "utf-8"),
]


def _write_truth(leak: Leak, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(leak.truth.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def synth_to_dir(
    out_dir: Path, n_customers: int, seed: int = 0, progress: Callable[[int], None] | None = None
) -> dict:
    """Write a world (Parquet, under ``out_dir/world``) and leaks with ``.truth.json`` files
    (under ``out_dir/leaks``); return a summary of what was written."""
    out_dir = Path(out_dir)
    world = make_world(n_customers, seed=seed, out=out_dir / "world", progress=progress)
    leak_dir = out_dir / "leaks"
    leak_dir.mkdir(parents=True, exist_ok=True)
    leaks = []
    for i, (name, kind, opts, fmt, enc) in enumerate(PLAN):
        leak = make_leak(world, kind, seed=seed + i, **opts)
        path = write_leak(leak, leak_dir / name, fmt, enc)
        if fmt == "forum":
            leak = leak.head(FORUM_SAMPLE)  # the post holds only the pasted sample
        truth = leak_dir / (name + ".truth.json")
        _write_truth(leak, truth)
        leaks.append(
            {
                "file": str(path),
                "truth": str(truth),
                "kind": kind,
                "format": fmt,
                "encoding": enc,
                "rows": leak.rows.height,
                "sources": leak.truth.sources,
            }
        )
    return {
        "world": str(out_dir / "world"),
        "seed": seed,
        "tables": world.summary,
        "insiders": world.insiders,
        "leaks": leaks,
    }
