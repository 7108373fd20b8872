"""Regenerate the derived reference tables from installed packages, so each CSV can be rebuilt.

Run ``python src/leaktrace/pii/data/build_tables.py``; it rewrites divisions.csv (python-stdnum's
GB/T 2260 data), mobile_segments.csv and area_codes.csv (phonenumbers' China number plan) and
versions.csv. card_bins.csv and surnames.csv are curated by hand (see SOURCES.md).
"""

from __future__ import annotations

import csv
import datetime
import re
from importlib import metadata, resources
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberType, carrier, geocoder

HERE = Path(__file__).resolve().parent
_ENTRY = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
# Residence permits for Hong Kong, Macao and Taiwan residents (2018) use these address codes;
# GB/T 2260 itself lists Taiwan as 710000, so stdnum's table lacks 830000.
EXTRA_DIVISIONS = [("830000", "台湾地区", "2018", "")]


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def build_divisions() -> list[tuple[str, str, str, str, str]]:
    """Rows (code, name, start_year, end_year, level) from stdnum's cn/loc.dat, one per name."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    rows: dict[str, list[tuple[str, str, str]]] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.strip().partition(" ")
        names = value.split("=", 1)[1].strip('"')
        if not line.startswith(" "):
            province = key
            rows.setdefault(key + "0000", [("", "", names)])
            continue
        code = province + key
        entries = []
        for entry in names.split(","):
            m = _ENTRY.match(entry)
            entries.append((m.group(1), m.group(2), m.group(3)) if m else ("", "", entry))
        rows[code] = entries
    out = [
        (code, name, start, end, _level(code))
        for code in sorted(rows)
        for start, end, name in rows[code]
    ]
    out += [(code, name, start, end, _level(code)) for code, name, start, end in EXTRA_DIVISIONS]
    return sorted(out)


def _compress(values: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Merge ten sibling prefixes with one value into their parent, repeatedly."""
    changed = True
    while changed:
        changed = False
        parents: dict[str, list[str]] = {}
        for prefix in values:
            parents.setdefault(prefix[:-1], []).append(prefix)
        for parent, children in parents.items():
            if len(children) == 10 and len({values[c] for c in children}) == 1:
                value = values[children[0]]
                for c in children:
                    del values[c]
                values[parent] = value
                changed = True
    return values


def build_mobile_segments() -> list[tuple[str, str, str]]:
    """Rows (prefix, carrier_en, carrier_zh): national prefixes that phonenumbers holds valid."""
    mobile = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
    values: dict[str, tuple[str, str]] = {}
    for n in range(13000, 20000):
        number = phonenumbers.PhoneNumber(country_code=86, national_number=n * 1_000_000)
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in mobile:
            values[str(n)] = (
                carrier.name_for_number(number, "en"),
                carrier.name_for_number(number, "zh"),
            )
    return sorted((p, en, zh) for p, (en, zh) in _compress(values).items())


def build_area_codes() -> list[tuple[str, str, str, str]]:
    """Rows (area_code, local_lengths, region_zh, region_en) for China's fixed-line area codes."""
    codes = ["10"] + [f"2{i}" for i in range(10)] + [str(i) for i in range(300, 1000)]
    out = []
    for code in codes:
        lengths = []
        region = None
        for length in (7, 8):
            for first in "2345678":
                local = first + "345678901"[: length - 1]
                number = phonenumbers.PhoneNumber(
                    country_code=86, national_number=int(code + local)
                )
                if (
                    phonenumbers.is_valid_number(number)
                    and phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE
                ):
                    lengths.append(str(length))
                    region = region or number
                    break
        if region is not None:
            zh = geocoder.description_for_number(region, "zh")
            en = geocoder.description_for_number(region, "en")
            out.append(("0" + code, "|".join(lengths), zh, en))
    return out


def _write(name: str, header: tuple[str, ...], rows: list) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    """Write the generated CSVs and the versions they came from."""
    _write("divisions.csv", ("code", "name", "start_year", "end_year", "level"), build_divisions())
    _write("mobile_segments.csv", ("prefix", "carrier_en", "carrier_zh"), build_mobile_segments())
    _write(
        "area_codes.csv",
        ("area_code", "local_lengths", "region_zh", "region_en"),
        build_area_codes(),
    )
    today = datetime.date.today().isoformat()
    stdnum = f"python-stdnum {metadata.version('python-stdnum')} (stdnum/cn/loc.dat)"
    pn = f"phonenumbers {metadata.version('phonenumbers')}"
    _write(
        "versions.csv",
        ("table", "source", "built"),
        [
            ("divisions.csv", stdnum, today),
            ("mobile_segments.csv", pn + " (metadata and carrier data)", today),
            ("area_codes.csv", pn + " (metadata and geocoding data)", today),
        ],
    )


if __name__ == "__main__":
    main()
