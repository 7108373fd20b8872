"""Microsoft Presidio set up as its documentation recommends, plus the recognisers a user would
add for mainland identifiers: the peer that leaktrace's scanner is measured against.

No spaCy model can be downloaded here, so the NLP engine is a saved ``spacy.blank("en")``
pipeline with one component that copies ``lower_`` into ``lemma_`` (Presidio's context enhancer
compares lemmas; a blank pipeline has none). Without a trained NER model Presidio finds no names
or addresses; PERSON and LOCATION are still asked for, as a user would.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.predefined_recognizers import PhoneRecognizer
from spacy.language import Language
from spacy.tokens import Doc

CHUNK_CHARS = 5000  # Presidio is 2-3x faster on 5 KB pieces than on 100 KB ones

# Presidio entity -> leaktrace kind (PHONE_NUMBER is split into mobile/landline by its digits).
ENTITY_KIND = {
    "CN_RESIDENT_ID": "resident_id",
    "CN_MOBILE": "mobile",
    "UNIONPAY_CARD": "bank_card",
    "CREDIT_CARD": "bank_card",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "landline",
    "PERSON": "person_name",
    "LOCATION": "address",
}
ENTITIES = list(ENTITY_KIND)
# Its docs: set supported_regions to the regions of the data (the default is US/GB/DE/FR/IL/IN/
# CA/BR, each region one more full pass of phonenumbers' matcher over the text).
PHONE_REGIONS = ("CN",)


# No network here: Presidio's email check calls tldextract, whose default extractor would first
# try to download the public suffix list; use the snapshot it ships instead.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())


@Language.component("lemma_from_lower")
def lemma_from_lower(doc: Doc) -> Doc:
    """Give every token its lower-case form as lemma, so context words can match."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def blank_model(path: Path) -> Path:
    """Save (once) a blank English spaCy pipeline with the lemma component at ``path``."""
    if not (path / "config.cfg").exists():
        nlp = spacy.blank("en")
        nlp.add_pipe("lemma_from_lower")
        nlp.to_disk(path)
    return path


def _ascii(text: str) -> str:
    """Full-width digits and letters folded to ASCII, separators dropped, upper case."""
    return "".join(unicodedata.normalize("NFKC", c) for c in text if c not in " -+").upper()


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _real_date(yyyymmdd: str) -> bool:
    y, m, d = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])
    days = (31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31,
            30, 31, 30, 31)  # fmt: skip
    return 1 <= m <= 12 and 1 <= d <= days[m - 1]


class CnResidentIdRecognizer(PatternRecognizer):
    """Mainland resident ID: 18 characters with a MOD 11-2 check, or the legacy 15 digits."""

    PATTERNS = [
        Pattern("CN resident ID (18)", r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])", 0.5),
        Pattern("CN resident ID (15)", r"(?<!\d)\d{15}(?!\d)", 0.1),
    ]
    CONTEXT = ["身份证", "身份证号", "证件号", "证件号码", "公民身份号码", "idcard", "id"]

    def __init__(self) -> None:
        super().__init__(
            supported_entity="CN_RESIDENT_ID", patterns=self.PATTERNS, context=self.CONTEXT
        )

    def validate_result(self, pattern_text: str) -> bool:
        v = _ascii(pattern_text)
        if len(v) == 15:
            return v.isdigit() and _real_date("19" + v[6:12])
        if len(v) != 18 or not v[:17].isdigit() or not _real_date(v[6:14]):
            return False
        return (
            "10X98765432"[sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True)) % 11]
            == v[17]
        )


class CnMobileRecognizer(PatternRecognizer):
    """Mainland mobile number, validated against phonenumbers' number plan for China."""

    PATTERNS = [
        Pattern(
            "CN mobile",
            r"(?<!\d)(?:(?:\+|00)86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)",
            0.4,
        )
    ]
    CONTEXT = ["手机", "手机号", "电话", "联系方式", "联系电话", "mobile", "phone", "tel"]

    def __init__(self) -> None:
        super().__init__(supported_entity="CN_MOBILE", patterns=self.PATTERNS, context=self.CONTEXT)

    def validate_result(self, pattern_text: str) -> bool:
        v = _ascii(pattern_text)
        v = v[4:] if v.startswith("0086") else v[2:] if len(v) == 13 else v
        n = phonenumbers.parse(v, "CN")
        return (
            phonenumbers.is_valid_number(n)
            and phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.MOBILE
        )


class UnionPayCardRecognizer(PatternRecognizer):
    """UnionPay card number: 62, 16-19 digits in all, Luhn check; plain or in groups of four."""

    PATTERNS = [
        Pattern("UnionPay card", r"(?<!\d)62\d{2}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?!\d)", 0.3)
    ]
    CONTEXT = ["银行卡", "卡号", "银行卡号", "储蓄卡", "信用卡", "借记卡", "card"]

    def __init__(self) -> None:
        super().__init__(
            supported_entity="UNIONPAY_CARD", patterns=self.PATTERNS, context=self.CONTEXT
        )

    def validate_result(self, pattern_text: str) -> bool:
        v = _ascii(pattern_text)
        if not (16 <= len(v) <= 19 and v.isdigit()):
            return False
        total = 0
        for i, c in enumerate(reversed(v)):
            d = int(c) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        return total % 10 == 0


@dataclass(frozen=True)
class Finding:
    """One Presidio result mapped to a leaktrace kind; ``text`` is the matched surface form."""

    kind: str
    start: int
    end: int
    text: str
    score: float


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """``text`` in pieces of about ``size`` characters cut after a newline, with their offsets."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


class PresidioPeer:
    """An AnalyzerEngine with the default registry, PHONE_NUMBER regions including CN, and the
    mainland recognisers above; ``find`` returns findings at every score (threshold later)."""

    def __init__(self, model_dir: Path) -> None:
        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": str(blank_model(model_dir))}],
            }
        )
        nlp_engine = provider.create_engine()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
        registry.remove_recognizer("PhoneRecognizer")
        registry.add_recognizer(PhoneRecognizer(supported_regions=PHONE_REGIONS))
        for recognizer in (
            CnResidentIdRecognizer(),
            CnMobileRecognizer(),
            UnionPayCardRecognizer(),
        ):
            registry.add_recognizer(recognizer)
        self.engine = AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=["en"]
        )

    def find(self, text: str) -> list[Finding]:
        """Every result for ENTITIES in ``text``, analysed in ~5 KB chunks."""
        out = []
        for offset, piece in chunks(text):
            for r in self.engine.analyze(text=piece, language="en", entities=ENTITIES):
                surface = piece[r.start : r.end]
                kind = ENTITY_KIND[r.entity_type]
                if r.entity_type == "PHONE_NUMBER":
                    digits = re.sub(r"\D", "", _ascii(surface)).removeprefix("0086")
                    digits = digits[2:] if len(digits) == 13 else digits
                    kind = "mobile" if len(digits) == 11 and digits[0] == "1" else "landline"
                out.append(Finding(kind, offset + r.start, offset + r.end, surface, r.score))
        return out
