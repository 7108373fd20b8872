"""`python -m bench.run` (what `make bench` runs): the scanning benchmark, appended as a dated
section to bench/RESULTS.md with the machine, the command, the figures and the targets."""

from __future__ import annotations

import argparse
import sys

from bench.results import append_section, header
from bench.scan_bench import GROUPS, MB, BenchConfig, BenchResult, run_bench
from leaktrace.synth.corpus import KINDS

TARGET_TABLE_MBS = 150.0
TARGET_TEXT_MBS = 50.0
TARGET_RATIO = 20.0
ROW_NAMES = {"micro": "**all kinds (micro)**", "micro_shared": "**kinds Presidio covers (micro)**"}


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _mbs(res: BenchResult, key: str) -> float | None:
    r = res.throughput.get(key)
    return r["mb_per_s"] if r else None


def render(res: BenchResult) -> str:
    """One dated Markdown section for RESULTS.md."""
    cfg = res.config
    acc = res.accuracy
    tools = list(acc)
    lines = [
        header("scan benchmark", ("leaktrace", "presidio-analyzer", "spacy", "polars")),
        f"- Corpus: {res.corpus['documents']} labelled documents, "
        f"{res.corpus['bytes'] / MB:.2f} MB; dumps of {cfg.size_mb} MiB each; Presidio slice "
        f"{cfg.slice_mb:g} MB of the text dump. MB = 10^6 bytes.",
        "",
        "### Accuracy on the labelled corpus",
        "",
        "Values labelled valid, matched on (document, kind, normalised value); a value reported "
        "valid that is not labelled valid is a false positive. `presidio` is at the "
        "AnalyzerEngine's default score threshold (0), `presidio@0.5` at 0.5.",
        "",
        "| kind | gold | " + " | ".join(f"{t} P / R / F1" for t in tools) + " |",
        "|---|---:|" + "---|" * len(tools),
    ]
    for kind in (*KINDS, *GROUPS):
        gold = acc[tools[0]][kind]["gold"] if tools else 0
        cells = [
            f"{_f(acc[t][kind]['precision'])} / {_f(acc[t][kind]['recall'])} / "
            f"{_f(acc[t][kind]['f1'])}"
            for t in tools
        ]
        lines.append(f"| {ROW_NAMES.get(kind, kind)} | {gold} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "### Throughput",
        "",
        "| data | tool | MB | seconds | MB/s | CPU s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for key, r in res.throughput.items():
        data, tool = key.split("/")
        lines.append(
            f"| {data} | {tool} | {r['bytes'] / MB:.1f} | {r['seconds']:.2f} | "
            f"{_f(r['mb_per_s'], 2)} | {_f(r.get('cpu_seconds'), 1)} | {r['peak_rss_mb']:.0f} |"
        )
    lines.append("")
    lines.append(
        "corpus rows: analysis time only; dump rows: wall time of the whole call. CPU s: all "
        "processes (a dump of 64 MB or more is scanned by one process per core); peak RSS: "
        "the main process plus its largest worker."
    )

    if "table/leaktrace" in res.throughput:
        lines += ["", "### Dumps: values found valid by leaktrace vs generated", ""]
        lines += ["| kind | table truth | table found | text truth | text found |"]
        lines += ["|---|---:|---:|---:|---:|"]
        t_kinds = res.throughput["table/leaktrace"]["kinds"]
        x_kinds = res.throughput["text/leaktrace"]["kinds"]
        for kind in KINDS:
            lines.append(
                f"| {kind} | {res.truth['table']['counts'][kind]['valid']} | "
                f"{t_kinds.get(kind, {}).get('valid', 0)} | "
                f"{res.truth['text']['counts'][kind]['valid']} | "
                f"{x_kinds.get(kind, {}).get('valid', 0)} |"
            )

    lt_slice, pr_slice = _mbs(res, "slice/leaktrace"), _mbs(res, "slice/presidio")
    ratio = lt_slice / pr_slice if lt_slice and pr_slice else None
    diffs = {
        group: acc["leaktrace"][group]["f1"] - acc["presidio"][group]["f1"]
        for group in GROUPS
        if "leaktrace" in acc and "presidio" in acc
    }
    higher = all(d > 0 for d in diffs.values()) if diffs else None
    lines += [
        "",
        "### Ratios (same run)",
        "",
        f"- Throughput leaktrace / Presidio on the same slice: {_f(ratio, 1)}×",
        f"- Micro F1 leaktrace − Presidio, all kinds: {_f(diffs.get('micro'))}; kinds "
        f"Presidio covers: {_f(diffs.get('micro_shared'))}",
        "",
        "### Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]

    def met(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "**not met**")

    table_mbs, text_mbs = _mbs(res, "table/leaktrace"), _mbs(res, "text/leaktrace")
    lines += [
        f"| tables ≥ {TARGET_TABLE_MBS:g} MB/s | {_f(table_mbs, 1)} MB/s | "
        f"{met(None if table_mbs is None else table_mbs >= TARGET_TABLE_MBS)} |",
        f"| free text ≥ {TARGET_TEXT_MBS:g} MB/s | {_f(text_mbs, 1)} MB/s | "
        f"{met(None if text_mbs is None else text_mbs >= TARGET_TEXT_MBS)} |",
        f"| ≥ {TARGET_RATIO:g}× Presidio at higher F1 (all kinds and kinds it covers) | "
        f"{_f(ratio, 1)}×, F1 difference {_f(diffs.get('micro'))} / "
        f"{_f(diffs.get('micro_shared'))} | "
        f"{met(None if ratio is None or higher is None else ratio >= TARGET_RATIO and higher)} |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--size-mb", type=int, help="size of each dump in MiB (default 1024)")
    parser.add_argument("--docs", type=int, help="labelled documents (default 2000)")
    parser.add_argument("--slice-mb", type=float, help="MB of text given to Presidio (default 10)")
    parser.add_argument(
        "--tools",
        default="leaktrace,presidio",
        help="comma-separated tools to measure (default leaktrace,presidio)",
    )
    args = parser.parse_args(argv)
    quick = BenchConfig(docs=300, size_mb=20, slice_mb=1.0)
    base = quick if args.quick else BenchConfig()
    cfg = BenchConfig(
        docs=args.docs or base.docs,
        size_mb=args.size_mb or base.size_mb,
        slice_mb=args.slice_mb or base.slice_mb,
        tools=tuple(t.strip() for t in args.tools.split(",") if t.strip()),
    )
    unknown = set(cfg.tools) - {"leaktrace", "presidio"}
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    res = run_bench(cfg, log=lambda m: print(m, file=sys.stderr, flush=True))
    section = render(res)
    append_section(section)
    print(section)


if __name__ == "__main__":
    main()
