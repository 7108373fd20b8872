"""The scanning benchmark: accuracy per kind on a labelled corpus and throughput on large dumps,
for leaktrace and for Presidio, on the same data in one run (the machine is noisy, so ratios
are only taken between figures of the same run).

Each measurement runs in a fresh process, so its peak RSS is its own.
"""

from __future__ import annotations

import json
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from leaktrace.synth.corpus import (
    KINDS,
    STATUSES,
    DatasetTruth,
    id_check_char,
    make_documents,
    normalise,
    write_table_dump,
    write_text_dump,
)

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
OUT_DIR = BENCH_DIR / "out"
SEED = 20261124
MB = 1_000_000  # throughput is in decimal megabytes per second

Key = tuple[int, str, str]  # (document, kind, canonical value)


def canonical(kind: str, value: str) -> str:
    """The form in which the two tools' values and the labels are compared: the corpus'
    normalisation, with legacy 15-digit IDs widened to 18 so either spelling matches."""
    v = normalise(kind, value)
    if kind == "resident_id" and len(v) == 15 and v.isdigit():
        body = v[:6] + "19" + v[6:]
        v = body + id_check_char(body)
    return v


def _peak_rss_mb() -> float:
    """Peak RSS of this process plus that of its largest child (a scan worker runs beside it),
    so a parallel scan is not flattered."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (own + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children, user and system."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


# --- work done in child processes ---------------------------------------------------------


def _leaktrace_find(texts: list[str]) -> dict[str, Any]:
    from leaktrace.scan import find_spans, find_spans_many

    find_spans(texts[0])  # load the tables outside the timing
    t0 = time.perf_counter()
    found = [
        (i, s.kind, s.value, s.status, 1.0)
        for i, spans in enumerate(find_spans_many(texts))
        for s in spans
    ]
    return {"found": found, "seconds": time.perf_counter() - t0, "peak_rss_mb": _peak_rss_mb()}


def _presidio_find(texts: list[str]) -> dict[str, Any]:
    from bench.presidio_peer import PresidioPeer

    peer = PresidioPeer(OUT_DIR / "spacy_blank_en")
    peer.find(texts[0])
    t0 = time.perf_counter()
    found = [
        (i, f.kind, f.text, "valid", f.score) for i, t in enumerate(texts) for f in peer.find(t)
    ]
    return {"found": found, "seconds": time.perf_counter() - t0, "peak_rss_mb": _peak_rss_mb()}


def _leaktrace_scan(path: str) -> dict[str, Any]:
    from leaktrace.scan import scan

    t0, c0 = time.perf_counter(), _cpu_seconds()
    result = scan([Path(path)])
    wall = time.perf_counter() - t0
    return {
        "bytes": result.bytes_read,
        "seconds": wall,
        "cpu_seconds": _cpu_seconds() - c0,
        "reported_seconds": result.seconds,
        "records": result.records,
        "kinds": {
            k: {"found": s.found, "valid": s.valid, "invalid": s.invalid, "masked": s.masked}
            for k, s in result.kinds.items()
        },
        "peak_rss_mb": _peak_rss_mb(),
    }


def _presidio_scan(path: str) -> dict[str, Any]:
    from bench.presidio_peer import PresidioPeer

    peer = PresidioPeer(OUT_DIR / "spacy_blank_en")
    t0 = time.perf_counter()
    text = Path(path).read_text(encoding="utf-8")
    n = len(peer.find(text))
    wall = time.perf_counter() - t0
    return {
        "bytes": len(text.encode("utf-8")),
        "seconds": wall,
        "findings": n,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _isolated(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a new process and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as ex:
        return ex.submit(fn, *args).result()


# --- scoring ------------------------------------------------------------------------------


@dataclass
class Score:
    """Precision, recall and F1 of one tool on one kind (or all kinds: 'micro')."""

    gold: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


def gold_keys(docs: Iterable[Any]) -> set[Key]:
    """(document, kind, value) of every identifier labelled valid."""
    return {
        (i, lab.kind, canonical(lab.kind, lab.value))
        for i, d in enumerate(docs)
        for lab in d.labels
        if lab.status == "valid"
    }


def predicted_keys(found: Iterable[tuple[int, str, str, str, float]], threshold: float) -> set[Key]:
    """(document, kind, value) of every value a tool reported valid at ``threshold`` or above."""
    return {
        (i, kind, canonical(kind, value))
        for i, kind, value, status, score in found
        if status == "valid" and score >= threshold and kind in KINDS
    }


# Micro-averaged groups: every kind, and the kinds Presidio has recognisers for here (it finds
# no passports or plates, and no names or addresses without a trained NER model).
GROUPS: dict[str, tuple[str, ...]] = {
    "micro": KINDS,
    "micro_shared": ("resident_id", "mobile", "bank_card", "landline", "email"),
}


def score(gold: set[Key], pred: set[Key]) -> dict[str, Score]:
    """Scores per kind and per GROUPS; a reported value not labelled valid is a false positive,
    a labelled valid value not reported a false negative."""
    out = {}
    for name, kinds in ({k: (k,) for k in KINDS} | GROUPS).items():
        g = {k for k in gold if k[1] in kinds}
        p = {k for k in pred if k[1] in kinds}
        out[name] = Score(len(g), len(g & p), len(p - g), len(g - p))
    return out


# --- data ---------------------------------------------------------------------------------


def _dump(
    name: str, size_mb: int, writer: Callable[[Path, int, int], DatasetTruth]
) -> DatasetTruth:
    """The dump ``name`` of ``size_mb`` MiB under bench/data, generated once and then reused."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}_{size_mb}mib_seed{SEED}{'.csv' if name == 'table' else '.txt'}"
    sidecar = path.with_name(path.name + ".truth.json")
    if path.exists() and sidecar.exists():
        return DatasetTruth.from_json(sidecar.read_text(encoding="utf-8"))
    truth = writer(path, size_mb * 1024 * 1024, SEED)
    tmp = sidecar.with_name(sidecar.name + ".part")
    tmp.write_text(truth.to_json(), encoding="utf-8")
    tmp.replace(sidecar)
    return truth


def _slice(source: Path, slice_mb: float) -> Path:
    """The first ``slice_mb`` MB of a text dump, cut at a blank line between posts."""
    path = source.with_name(f"{source.stem}_slice{slice_mb:g}mb.txt")
    if not path.exists():
        with open(source, "rb") as f:
            head = f.read(int(slice_mb * MB))
        cut = head.rfind(b"\n\n")
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(head[: cut + 2] if cut > 0 else head)
        tmp.replace(path)
    return path


# --- the benchmark ------------------------------------------------------------------------


@dataclass
class BenchConfig:
    """Sizes of one run; ``tools`` may leave one side out (e.g. while leaktrace is built)."""

    docs: int = 2000
    size_mb: int = 1024
    slice_mb: float = 10.0
    tools: tuple[str, ...] = ("leaktrace", "presidio")
    thresholds: tuple[float, ...] = (0.0, 0.5)  # Presidio: AnalyzerEngine's default, and 0.5


@dataclass
class BenchResult:
    """Everything measured in one run, ready for bench/RESULTS.md and JSON."""

    config: BenchConfig
    corpus: dict[str, Any] = field(default_factory=dict)
    accuracy: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    throughput: dict[str, dict[str, Any]] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The whole result as JSON (written to bench/out/scan_bench.json)."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def run_bench(cfg: BenchConfig, log: Callable[[str], None] = print) -> BenchResult:
    """Generate (or reuse) the data, then measure each tool on it in its own process."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    res = BenchResult(cfg)

    log(f"corpus: {cfg.docs} labelled documents")
    docs = make_documents(cfg.docs, SEED)
    texts = [d.text for d in docs]
    gold = gold_keys(docs)
    labels = Counter((lab.kind, lab.status) for d in docs for lab in d.labels)
    res.corpus = {
        "documents": len(docs),
        "bytes": sum(len(t.encode("utf-8")) for t in texts),
        "labels": {k: {s: labels[k, s] for s in STATUSES} for k in KINDS},
    }

    finders = {"leaktrace": _leaktrace_find, "presidio": _presidio_find}
    for tool in cfg.tools:
        log(f"accuracy: {tool}")
        out = _isolated(finders[tool], texts)
        thresholds = cfg.thresholds if tool == "presidio" else (0.0,)
        for th in thresholds:
            name = tool if th == 0.0 else f"{tool}@{th:g}"
            scores = score(gold, predicted_keys(out["found"], th))
            res.accuracy[name] = {k: s.as_dict() for k, s in scores.items()}
        res.throughput[f"corpus/{tool}"] = {
            "bytes": res.corpus["bytes"],
            "seconds": out["seconds"],
            "peak_rss_mb": out["peak_rss_mb"],
        }

    log(f"data: {cfg.size_mb} MiB table and text dumps under {DATA_DIR}")
    table = _dump("table", cfg.size_mb, write_table_dump)
    text = _dump("text", cfg.size_mb, write_text_dump)
    piece = _slice(text.path, cfg.slice_mb)
    res.truth = {"table": asdict(table) | {"path": str(table.path)},
                 "text": asdict(text) | {"path": str(text.path)}}  # fmt: skip

    if "leaktrace" in cfg.tools:
        for name, path in (("table", table.path), ("text", text.path), ("slice", piece)):
            log(f"throughput: leaktrace on {name}")
            res.throughput[f"{name}/leaktrace"] = _isolated(_leaktrace_scan, str(path))
    if "presidio" in cfg.tools:
        log("throughput: presidio on slice")
        res.throughput["slice/presidio"] = _isolated(_presidio_scan, str(piece))
    for r in res.throughput.values():
        r["mb_per_s"] = r["bytes"] / MB / r["seconds"] if r["seconds"] else None
    (OUT_DIR / "scan_bench.json").write_text(res.to_json(), encoding="utf-8")
    return res
