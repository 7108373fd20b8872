"""Keeps the message catalogues in step with the code: ``python scripts/catalogues.py``.

Extracts every ``_()``, ``N_()`` and ``ngettext()`` message of ``src/leaktrace`` (its Python and
its Jinja2 templates) with Babel, puts each in the catalogue of the part of the code it is in
(``DOMAINS``), and rewrites the
Chinese and English .po files: translations kept, new messages added (English as written,
Chinese empty, to be filled in), messages no longer in the code dropped. ``--check`` changes
nothing and exits 1 when a catalogue is out of step or a translation is empty.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "leaktrace"
LOCALE = SRC / "locale"
# Fixed header dates: the files change only when a message does, so merges stay clean.
FIXED_DATE = datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}

# Which catalogue a source file's messages go to: the first prefix (relative to SRC) it has.
DOMAINS = (
    ("report/records", "records"),
    ("verify/records", "records"),
    ("report/evidence", "evidence"),
    ("report/pdf", "evidence"),
    ("evidence", "evidence"),
    ("report/trace", "trace_report"),
    ("report/breach", "registry_report"),
    ("report/dashboard", "registry_report"),
    ("report/", "report"),
    ("verify/verdict", "report"),
    ("verify/forgery", "report"),
    ("verify/tampering", "report"),
    ("verify/fields", "report"),
    ("verify/", "input"),
    ("ingest/", "input"),
    ("scan/", "input"),
    ("pii/", "input"),
    ("synth/", "input"),
    ("errors.py", "input"),
    ("extras.py", "input"),
    ("trace/", "trace"),
    ("registry/", "registry"),
    ("", "cli"),
)


# Typer's own texts (panel titles, defaults, "required"), from the pinned version installed:
# leaktrace.help_texts makes Typer look them up in the ``typer`` domain.
THIRD_PARTY = {"typer": ("core", "rich_utils")}


def _third_party() -> list[tuple[Path, str]]:
    """The Typer modules leaktrace.help_texts translates, with a name to cite."""
    import importlib

    out = []
    for package, modules in THIRD_PARTY.items():
        for name in modules:
            path = Path(importlib.import_module(f"{package}.{name}").__file__ or "")
            out.append((path, f"{package}/{path.name}"))
    return out


def domain_of(path: Path) -> str:
    rel = path.relative_to(SRC).as_posix()
    return next(d for prefix, d in DOMAINS if rel.startswith(prefix))


def _sources() -> list[tuple[str, Path]]:
    """Every file with messages and how to read it: Python, and the Jinja2 templates (whose
    ``_()`` calls Jinja2's own Babel extractor finds)."""
    python = [("python", p) for p in SRC.rglob("*.py")]
    templates = [("jinja2.ext:babel_extract", p) for p in SRC.rglob("templates/*.html")]
    return sorted(python + templates, key=lambda t: t[1])


def extracted() -> dict[str, dict[str | tuple[str, str], list[tuple[str, int]]]]:
    """Per domain: message id (a pair for plurals) -> where it is used."""
    out: dict[str, dict] = {d: {} for _, d in DOMAINS}
    for method, path in _sources():
        for lineno, message, _comments, _context in extract_from_file(
            method, path, keywords=KEYWORDS
        ):
            key = message if isinstance(message, str) else tuple(message)
            out[domain_of(path)].setdefault(key, []).append(
                (path.relative_to(ROOT).as_posix(), lineno)
            )
    out["typer"] = {}
    for path, cited in _third_party():
        for lineno, message, _comments, _context in extract_from_file(
            "python", path, keywords=KEYWORDS
        ):
            key = message if isinstance(message, str) else tuple(message)
            out["typer"].setdefault(key, []).append((cited, lineno))
    return out


def _read(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=lang, domain=path.stem)
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def updated(domain: str, lang: str, messages: dict) -> tuple[Catalog, Catalog]:
    """The catalogue as it is on disk and as the code wants it."""
    path = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
    old = _read(path, lang)
    new = Catalog(
        locale=lang,
        domain=domain,
        project="leaktrace",
        version="0.1.0",
        msgid_bugs_address="leaktrace issues",
        last_translator="leaktrace developers",
        language_team="leaktrace developers",
        charset="utf-8",
        fuzzy=False,
        header_comment=f"# leaktrace's {domain} messages ({lang}); kept in step with the code by "
        "scripts/catalogues.py.",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
    )
    for key, places in messages.items():
        msgid = key
        before = old.get(msgid if isinstance(msgid, str) else msgid[0])
        if before is not None and before.string:
            string = before.string
        elif lang == "en":
            string = msgid
        else:
            string = "" if isinstance(msgid, str) else ("",)
        new.add(msgid, string, locations=places)
    return old, new


def _translated(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def _same(a: Catalog, b: Catalog) -> bool:
    left = {m.id: m.string for m in a if m.id}
    right = {m.id: m.string for m in b if m.id}
    return left == right


def main(argv: list[str]) -> int:
    check = "--check" in argv
    bad = []
    for domain, messages in extracted().items():
        for lang in ("zh", "en"):
            old, new = updated(domain, lang, messages)
            empty = [m.id for m in new if m.id and not _translated(m.string)]
            path = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
            if check:
                if not _same(old, new):
                    bad.append(f"{path.relative_to(ROOT)}: out of step with the code")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("wb") as f:
                    write_po(f, new, width=100, omit_header=False, sort_output=True)
            bad += [f"{path.relative_to(ROOT)}: no translation of {m!r}" for m in empty]
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
