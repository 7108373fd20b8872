"""Labelled scanning corpus: forum posts, chat logs and customer tables in which every personal
identifier is known, so that a scanner's precision, recall and speed can be measured exactly.

Identifiers are made here by code independent of ``leaktrace.pii``, so the corpus checks the
scanner rather than agreeing with it by construction. Values are drawn from real reference data:
county codes from python-stdnum's ``cn/loc.dat`` (Wikipedia's GB/T 2260 tables), mobile segments
checked against ``phonenumbers``' number plan, and card BINs of Chinese banks.

Normalised label values (what :func:`normalise` returns): full-width characters folded to ASCII;
resident IDs, bank cards and passports without separators, upper case (legacy IDs keep their 15
digits); mobiles as 11 digits without country code; landlines as digits with the trunk 0
(``075512345678``); plates without ``·``; emails lower case; names and addresses as written.
Masked values keep their ``*``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import phonenumbers

KINDS: tuple[str, ...] = (
    "resident_id",
    "mobile",
    "bank_card",
    "landline",
    "email",
    "passport",
    "plate",
    "person_name",
    "address",
)
STATUSES: tuple[str, ...] = ("valid", "invalid", "masked")
_SLOT = {(k, s): i * len(STATUSES) + j for i, k in enumerate(KINDS) for j, s in enumerate(STATUSES)}


class Label(NamedTuple):
    """One identifier in a document: ``text[start:end]`` normalises to ``value``."""

    kind: str
    start: int
    end: int
    value: str
    status: str  # valid | invalid | masked


@dataclass
class Document:
    """A forum post or chat log with the exact position of every identifier in it."""

    text: str
    labels: list[Label]


@dataclass
class DatasetTruth:
    """Ground truth for a written file: how many values of each kind and status it holds, and for
    tables the kind of each column (keyed by header as written, or by English key without one)."""

    path: Path
    bytes: int
    records: int  # rows of a table, documents of a text dump
    counts: dict[str, dict[str, int]]
    columns: dict[str, str | None] = field(default_factory=dict)

    def to_json(self) -> str:
        """JSON for a sidecar file, so a dump can be reused without regenerating it."""
        d = {
            "path": str(self.path),
            "bytes": self.bytes,
            "records": self.records,
            "counts": self.counts,
            "columns": self.columns,
        }
        return json.dumps(d, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> DatasetTruth:
        """The truth that :meth:`to_json` wrote."""
        d = json.loads(text)
        return cls(Path(d["path"]), d["bytes"], d["records"], d["counts"], d["columns"])


# --- check digits and normalisation (independent of leaktrace.pii) ----------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643-1999
ID_CHECK = "10X98765432"


def id_check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def id_checksum_ok(value: str) -> bool:
    """True when an 18-character resident ID's last character is its MOD 11-2 check character."""
    return len(value) == 18 and value[:17].isdigit() and id_check_char(value[:17]) == value[17]


def luhn_ok(digits: str) -> bool:
    """True when a digit string passes the Luhn check."""
    if not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_FOLD = (
    {0xFF10 + i: 0x30 + i for i in range(10)}
    | {0xFF21 + i: 0x41 + i for i in range(26)}
    | {0xFF41 + i: 0x61 + i for i in range(26)}
    | {0x3000: 0x20, 0xFF0B: 0x2B, 0xFF0D: 0x2D, 0xFF0A: 0x2A, 0xFF08: 0x28, 0xFF09: 0x29}
)
_TO_FULL = {0x30 + i: 0xFF10 + i for i in range(10)}
_SEPARATORS = re.compile(r"[\s\-·()]")


def normalise(kind: str, raw: str) -> str:
    """Canonical value of a surface form of ``kind`` (see the module docstring)."""
    s = raw.translate(_FOLD).strip()
    if kind in ("person_name", "address"):
        return s
    if kind == "email":
        return s.lower()
    s = _SEPARATORS.sub("", s).lstrip("+")
    if kind == "mobile" and len(s) > 11:
        return s[4:] if s.startswith("0086") else s[2:] if s.startswith("86") else s
    if kind == "landline":
        return "0" + s[4:] if s.startswith("0086") else "0" + s[2:] if s.startswith("86") else s
    return s.upper()


# --- reference data ---------------------------------------------------------------------------


class County(NamedTuple):
    """A county-level division in use today, with the year its code came into use."""

    code: str
    province: str
    city: str  # empty for the districts of municipalities
    county: str
    since: int


@lru_cache(maxsize=1)
def counties() -> tuple[County, ...]:
    """Current county-level divisions (python-stdnum ``cn/loc.dat``, from Wikipedia's GB/T 2260
    tables); Taiwan, Hong Kong and Macau are left out as they issue no resident IDs."""
    text = (resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    current: dict[str, tuple[str, int]] = {}
    provinces: dict[str, str] = {}
    prov = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^(\d\d) province="([^"]+)"', line)
        if m:
            prov = m.group(1)
            provinces[prov] = m.group(2)
            continue
        m = re.match(r'^\s+(\d{4}) county="([^"]+)"', line)
        if not m:
            continue
        last = m.group(2).split(",")[-1]
        span = re.match(r"^\[(\d*)-(\d*)\](.+)$", last)
        if span is None:
            current[prov + m.group(1)] = (last, 0)
        elif not span.group(2):
            current[prov + m.group(1)] = (span.group(3), int(span.group(1) or 0))
    out = []
    for code, (name, since) in current.items():
        if code[:2] in ("71", "81", "82") or code.endswith("00") or name in ("市辖区", "县"):
            continue
        city = current.get(code[:4] + "00", ("", 0))[0]
        out.append(
            County(code, provinces[code[:2]], "" if city in ("市辖区", "县") else city, name, since)
        )
    return tuple(out)


# Mainland mobile segments (three digits); each is checked against phonenumbers before use.
MOBILE_SEGMENTS = (
    *range(130, 140),
    145,
    147,
    150,
    151,
    152,
    153,
    *range(155, 160),
    166,
    172,
    173,
    *range(175, 179),
    *range(180, 190),
    191,
    193,
    *range(195, 200),
)


@lru_cache(maxsize=1)
def mobile_segments() -> tuple[int, ...]:
    """The segments of MOBILE_SEGMENTS whose numbers phonenumbers accepts as valid CN mobiles."""
    r = random.Random(0)
    ok = []
    for seg in MOBILE_SEGMENTS:
        nums = [phonenumbers.parse(f"{seg}{r.randrange(10**8):08d}", "CN") for _ in range(25)]
        if all(
            phonenumbers.is_valid_number(n)
            and phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.MOBILE
            for n in nums
        ):
            ok.append(seg)
    return tuple(ok)


# Debit and credit card BINs of Chinese banks with the card length they are issued in, as printed
# on the banks' cards and listed in public BIN tables.
BANK_BINS: tuple[tuple[str, int, str], ...] = (
    ("622202", 19, "中国工商银行"),
    ("621226", 19, "中国工商银行"),
    ("621700", 19, "中国建设银行"),
    ("622700", 19, "中国建设银行"),
    ("622848", 19, "中国农业银行"),
    ("621661", 19, "中国银行"),
    ("622260", 19, "交通银行"),
    ("622588", 16, "招商银行"),
    ("621483", 16, "招商银行"),
    ("621799", 19, "中国邮政储蓄银行"),
    ("622188", 19, "中国邮政储蓄银行"),
    ("622908", 18, "兴业银行"),
)
BANKS = tuple(dict.fromkeys(b for _, _, b in BANK_BINS))
BIN_BANK = {b: bank for b, _, bank in BANK_BINS}

# Area code and length of local numbers (first digit 2-8) of some cities' landlines.
LANDLINE_AREAS: tuple[tuple[str, int], ...] = (
    ("010", 8), ("020", 8), ("021", 8), ("022", 8), ("023", 8), ("024", 8), ("025", 8),
    ("027", 8), ("028", 8), ("029", 8), ("0755", 8), ("0571", 8), ("0512", 8), ("0531", 8),
    ("0532", 8), ("0591", 8), ("0731", 8), ("0871", 8), ("0371", 8), ("0592", 7), ("0951", 7),
    ("0971", 7),
)  # fmt: skip

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O on plates
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "foxmail.com",
                 "139.com", "sohu.com", "yeah.net", "outlook.com")  # fmt: skip
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容",
                     "令狐", "夏侯", "长孙", "宇文", "司徒")  # fmt: skip
MINORITY_NAMES = ("买买提", "艾力", "阿不都", "古丽", "热依汗", "努尔", "帕提古丽", "艾合买提",
                  "吐尔逊", "阿依古丽", "迪丽拜尔", "伊力哈木", "库尔班", "依明", "玉素甫", "麦麦提",
                  "艾尼瓦尔", "阿迪力", "热合曼", "阿卜杜拉", "巴特尔", "乌力吉", "其其格", "娜仁")  # fmt: skip
NICKS = ("老王", "鹏哥", "数据贩子", "A-资料批发", "快乐的鱼", "东哥", "阿杰", "收料专用",
         "专业查档", "风清扬", "海阔天空", "数据狗", "King", "料商小七", "夜猫子", "Tony")  # fmt: skip
REMARKS = ("", "", "", "VIP客户", "已核实", "高净值", "有车有房", "征信良好", "信用卡额度5万",
           "逾期", "已注销", "贷款客户", "理财客户", "二次营销")  # fmt: skip


@dataclass(frozen=True)
class _Pools:
    """Values made once per seed with Faker zh_CN, then sampled: Faker is too slow per row."""

    names: tuple[str, ...]
    addresses: tuple[str, ...]
    users: tuple[str, ...]
    companies: tuple[str, ...]
    cities: tuple[str, ...]
    provinces: tuple[str, ...]


@lru_cache(maxsize=4)
def _pools(seed: int) -> _Pools:
    from faker import Faker

    fk = Faker("zh_CN")
    fk.seed_instance(seed)
    r = random.Random(seed)
    names = [fk.name() for _ in range(3000)]
    names += [r.choice(COMPOUND_SURNAMES) + fk.first_name() + r.choice(("", fk.first_name()))
              for _ in range(200)]  # fmt: skip
    names += ["·".join(r.sample(MINORITY_NAMES, 2)) for _ in range(150)]
    addresses = [fk.address().rsplit(" ", 1)[0] for _ in range(1500)]
    cs = counties()
    streets = [fk.street_name() for _ in range(300)]
    for _ in range(1500):
        c = r.choice(cs)
        unit = r.choice(
            ("", f"{r.randint(1, 30)}栋{r.randint(1, 6)}单元{r.randint(1, 33)}0{r.randint(1, 4)}室")
        )
        addresses.append(
            f"{c.province}{c.city}{c.county}{r.choice(streets)}{r.randint(1, 999)}号{unit}"
        )
    return _Pools(
        names=tuple(names),
        addresses=tuple(addresses),
        users=tuple(fk.user_name() for _ in range(1500)),
        companies=tuple(fk.company() for _ in range(200)),
        cities=tuple(dict.fromkeys(c.city for c in cs if c.city)),
        provinces=tuple(dict.fromkeys(c.province for c in cs)),
    )


# --- vectorised identifier batches ------------------------------------------------------------


def _ascii_rows(codes: np.ndarray) -> list[str]:
    """Rows of an n×w array of ASCII codes as Python strings."""
    mat = np.ascontiguousarray(codes, dtype=np.uint8)
    return mat.view(f"S{mat.shape[1]}").ravel().astype(f"U{mat.shape[1]}").tolist()


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Decimal digits (most significant first) of non-negative integers as an n×width array."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers) % 10


@lru_cache(maxsize=1)
def _county_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Codes and first years of the counties whose codes were in use by 2000, so that every
    generated adult was born after their county's code came into use."""
    cs = [c for c in counties() if c.since <= 2000]
    return np.array([int(c.code) for c in cs], np.int64), np.array([c.since for c in cs], np.int64)


def _birth_ymd(rng: np.random.Generator, first_year: np.ndarray, last: str) -> np.ndarray:
    """Random real dates as YYYYMMDD integers, each from its first year to ``last``."""
    lo = (np.maximum(first_year, 1935) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    hi = np.datetime64(last, "D")
    days = lo + (rng.random(len(lo)) * (hi - lo).astype(np.int64)).astype(np.int64)
    y = days.astype("datetime64[Y]").astype(np.int64) + 1970
    m = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + d


_ID_CHECK_CODES = np.frombuffer(ID_CHECK.encode(), np.uint8)


def _make_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Valid 18-digit resident IDs: current county code, a birth date after the code came into
    use, a sequence number and the MOD 11-2 check character."""
    codes, since = _county_arrays()
    i = rng.integers(0, len(codes), n)
    body = codes[i] * 10**11 + _birth_ymd(rng, since[i], "2007-12-31") * 1000
    digits = _digits(body + rng.integers(0, 1000, n), 17)
    out = np.empty((n, 18), np.uint8)
    out[:, :17] = digits + 48
    out[:, 17] = _ID_CHECK_CODES[(digits * np.array(ID_WEIGHTS)).sum(1) % 11]
    return _ascii_rows(out)


def _make_ids15(rng: np.random.Generator, n: int) -> list[str]:
    """Legacy 15-digit resident IDs (births of the 20th century, codes in use before 1985)."""
    codes, since = _county_arrays()
    old = np.flatnonzero(since < 1985)
    i = old[rng.integers(0, len(old), n)]
    ymd = _birth_ymd(rng, since[i], "1984-12-31") % 1000000
    return _ascii_rows(_digits(codes[i] * 10**9 + ymd * 1000 + rng.integers(0, 1000, n), 15) + 48)


def _make_mobiles(rng: np.random.Generator, n: int) -> list[str]:
    segs = np.array(mobile_segments(), np.int64)
    values = segs[rng.integers(0, len(segs), n)] * 10**8 + rng.integers(0, 10**8, n)
    return _ascii_rows(_digits(values, 11) + 48)


def _make_cards(rng: np.random.Generator, n: int) -> list[str]:
    """Bank card numbers: a real BIN, random account digits and the Luhn check digit. 18-digit
    cards that would also pass as a resident ID's checksum are left out, to keep labels clear."""
    which = rng.integers(0, len(BANK_BINS), n)
    out: list[str] = []
    for b, (bin_, length, _) in enumerate(BANK_BINS):
        k = int((which == b).sum())
        payload = np.empty((k, length - 1), np.int64)
        payload[:, :6] = [int(c) for c in bin_]
        payload[:, 6:] = rng.integers(0, 10, (k, length - 7))
        doubled = payload[:, ::-1].copy()
        doubled[:, ::2] *= 2
        doubled[doubled > 9] -= 9
        check = (10 - doubled.sum(1) % 10) % 10
        digits = np.concatenate([payload, check[:, None]], axis=1)
        if length == 18:
            id_check = _ID_CHECK_CODES[(digits[:, :17] * np.array(ID_WEIGHTS)).sum(1) % 11]
            digits = digits[id_check != digits[:, 17] + 48]
        out += _ascii_rows(digits + 48)
    order = rng.permutation(len(out))
    return [out[j] for j in order]


class _Batch:
    """Hands out one value at a time from vectorised batches."""

    def __init__(
        self, make: Callable[[np.random.Generator, int], list[str]], rng: np.random.Generator
    ):
        self._make = make
        self._rng = rng
        self._buf: list[str] = []

    def take(self) -> str:
        if not self._buf:
            self._buf = self._make(self._rng, 4096)
        return self._buf.pop()


# --- documents --------------------------------------------------------------------------------

# Templates: {field} is a value (see _Composer.f_*); any other text is literal.
TEMPLATES: tuple[str, ...] = (
    "出售{bank}信用卡客户资料，样本如下：\n{rows}\n需要的私聊，QQ：{qq}，{count}条起出，{price}。",
    "【{province}】最新{bank}储户数据，实时更新，包真包新。样本：\n{rows}\n联系电报 @{handle}",
    "收{bank}的客户资料，要带身份证和手机号的，价格好说。格式如下：\n{rows}\n有货的加QQ{qq}",
    "{province}车主数据，{count}条，带车牌身份证，样本：\n{car_rows}\n{price}一条，量大从优。",
    "[{date} {time}] {nick}: 兄弟要{province}的车主数据吗\n[{date} {time}] {nick}: 先发个样本看看\n"
    "[{date} {time}] {nick}: {name} {plate} {mobile_any}\n[{date} {time}] {nick}: {name} {plate} {id_any}\n"
    "[{date} {time}] {nick}: 行，多少钱一条",
    "{nick} {time}\n这批是{company}的，刚出的\n{nick} {time}\n发两条验一下\n{nick} {time}\n"
    "{name}，{mobile}，{id}\n{name}，{mobile_any}，{addr}\n{nick} {time}\n验过了，是真的",
    "姓名：{name}\n身份证号：{id_any}\n手机号：{mobile_any}\n银行卡号：{card_any}\n开户行：{bank}\n住址：{addr}",
    "姓名：{name} 身份证号：{id} 手机：{mobile} 地址：{addr}",
    "客户{name}的手机号是{mobile}，住在{addr}，身份证{id}，上周在我们这里办了一张{bank}的卡，卡号{card}。",
    "今天接到{name}的电话（{landline}），说他的银行卡{card_any}被盗刷了{price}，订单号{order}，让我们核实一下。",
    "Customer: {name}\nID No.: {id}\nMobile: {mobile}\nEmail: {email}\nAddress: {addr}\nNote: KYC passed on {date}.",
    "Leaked sample from {company}, {count} records (name, id card, phone). e.g. {name}, {id_any}, "
    "{mobile_any}. Price {price}, contact {email}",
    "<table>\n<tr><th>姓名</th><th>身份证</th><th>电话</th><th>地址</th></tr>\n{html_rows}</table>",
    '<div class="post"><p>楼主：{nick}</p><p>有需要{province}快递数据的吗？{name} {mobile} {addr}，'
    "快递单号{tracking}，下单时间{ts}</p></div>",
    "收件人：{name}\n电话：{mobile_any}\n地址：{addr}\n运单号：{tracking}\n下单时间：{ts}",
    "【催收通知】{name}，身份证{id_any}，您在{company}的借款{price}已逾期{count}天，请尽快还款，"
    "否则将联系您的紧急联系人{name}（{mobile}）。",
    "投保人：{name}，证件号码：{id}，联系电话：{mobile}，车牌号：{plate}，保单号：{order}，保费{price}。",
    "入住人 {name} 证件类型 护照 证件号 {passport} 手机 {mobile} 邮箱 {email} 入住时间 {date}",
    "[{time}] {nick}：这个是脱敏的 {id_masked} {mobile_masked}，要全的加钱\n[{time}] {nick}：全的发我 {id}",
    "订单{order}已发货，物流单号{tracking}，支付时间{ts}，实付{price}，如有问题请联系客服QQ{qq}。",
    "{name}（卡号{card}）于{date}向{name}（卡号{card_any}）转账{price}，交易流水号{order}。",
    "网上流传的这个身份证号{id_bad}是假的，校验位都不对，大家别信。",
    "有没有人认识{name}？电话{mobile}一直打不通，他欠我{price}，家就在{addr}附近。",
    "name={name}; idcard={id}; phone={mobile}; card={card}; email={email}",
    '{"name": "{name}", "idcard": "{id_any}", "phone": "{mobile_any}", "addr": "{addr}"}',
    "招聘兼职，日结{price}，有意者联系{name}，手机{mobile}，或加QQ{qq}，简历发{email}。",
    "{addr}业主名单（部分）：\n{rows}",
    "老系统导出的，身份证还是15位的：\n{name} {id15} {landline}\n{name} {id15} {mobile}",
    "Selling fresh CN data: {count} rows, bank: {bank}. Sample: {name} | {id} | {mobile} | {card}. "
    "Contact @{handle}",
    "公司座机{landline}，传真{landline}，地址：{addr}，联系人{name}，邮箱{email}。",
    "出入境记录：{name} 护照号{passport}，{date}出境，同行人{name}，护照{passport}。",
    "寄到{addr}，{name}收，{mobile}",
    "{name} {mobile_any}\n{name} {mobile_any}\n{name} {mobile_any}\n以上是{city}的，{price}打包",
    "违章查询：{plate}，车主{name}，{date}在{city}超速，罚款{price}。",
)

ROW_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("name", "id_any", "mobile_any"),
    ("name", "mobile_any", "addr"),
    ("name", "id_any", "card_any", "mobile_any"),
    ("id_any", "name", "mobile_any", "card_any", "bank"),
    ("mobile_any", "name", "addr"),
    ("name", "id_any", "mobile_any", "email", "addr"),
)
ROW_SEPARATORS = (" ", "\t", ",", "|", "----")
ROW_HEADERS = {"name": "姓名", "id_any": "身份证", "mobile_any": "手机", "card_any": "卡号",
               "bank": "开户行", "addr": "地址", "email": "邮箱"}  # fmt: skip

_FIELD = re.compile(r"\{(\w+)\}")


class _Composer:
    """Renders documents and table rows, recording a label for every identifier it writes."""

    def __init__(self, seed: int, pools_seed: int):
        self.r = random.Random(seed)
        rng = np.random.default_rng(seed)
        self.p = _pools(pools_seed)
        self.ids = _Batch(_make_ids, rng)
        self.ids15 = _Batch(_make_ids15, rng)
        self.mobiles = _Batch(_make_mobiles, rng)
        self.cards = _Batch(_make_cards, rng)
        self.templates = [
            [(getattr(self, "f_" + tok) if i % 2 else tok) for i, tok in enumerate(_FIELD.split(t))]
            for t in TEMPLATES
        ]
        self.last_bin = ""  # BIN of the last table card, so its row names the issuing bank
        self.parts: list[str] = []
        self.labels: list[Label] = []
        self.pos = 0

    # -- document assembly
    def document(self) -> Document:
        self.parts, self.labels, self.pos = [], [], 0
        self._render(self.r.choice(self.templates))
        while self.r.random() < 0.3:
            self._lit(self.r.choice(("\n\n回复：", "\n---\n", "\n\n")))
            self._render(self.r.choice(self.templates))
        return Document("".join(self.parts), self.labels)

    def _render(self, template: list[Any]) -> None:
        for part in template:
            if isinstance(part, str):
                if part:
                    self._lit(part)
            else:
                part()

    def _lit(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def _lab(self, surface: str, kind: str, status: str, value: str | None = None) -> None:
        """Write ``surface`` labelled; ``value`` is its normal form when the caller knows it."""
        end = self.pos + len(surface)
        value = normalise(kind, surface) if value is None else value
        self.labels.append(Label(kind, self.pos, end, value, status))
        self.parts.append(surface)
        self.pos = end

    # -- surface variations
    def _fmt_id(self, v: str) -> str:
        x = self.r.random()
        if v[-1] == "X" and x < 0.4:
            v = v[:-1] + "x"
        y = self.r.random()
        if y < 0.03:
            return v.translate(_TO_FULL)
        if y < 0.05:
            return f"{v[:6]} {v[6:14]} {v[14:]}"
        return v

    def _fmt_mobile(self, v: str) -> str:
        x = self.r.random()
        if x < 0.70:
            return v
        if x < 0.78:
            return f"{v[:3]} {v[3:7]} {v[7:]}"
        if x < 0.86:
            return f"{v[:3]}-{v[3:7]}-{v[7:]}"
        if x < 0.91:
            return "+86 " + v
        if x < 0.94:
            return "+86" + v
        if x < 0.97:
            return "0086-" + v
        return v.translate(_TO_FULL)

    def _fmt_card(self, v: str) -> str:
        x = self.r.random()
        if x < 0.75:
            return v
        sep = " " if x < 0.95 else "-"
        return sep.join(v[i : i + 4] for i in range(0, len(v), 4))

    def _bad_id(self) -> str:
        v = self.ids.take()
        for c in self.r.sample(ID_CHECK, len(ID_CHECK)):
            w = v[:17] + c
            if c != v[17] and not luhn_ok(w):
                return w
        raise AssertionError("unreachable: some check character fails both checks")

    def _bad_card(self) -> str:
        v = self.cards.take()
        for c in self.r.sample("0123456789", 10):
            w = v[:-1] + c
            if c != v[-1] and not id_checksum_ok(w):
                return w
        raise AssertionError("unreachable: some last digit fails both checks")

    # -- identifier fields (labelled)
    def f_name(self) -> None:
        name = self.r.choice(self.p.names)
        self._lab(name, "person_name", "valid", name)

    def f_addr(self) -> None:
        addr = self.r.choice(self.p.addresses)
        self._lab(addr, "address", "valid", addr)

    def f_id(self) -> None:
        v = self.ids.take()
        self._lab(self._fmt_id(v), "resident_id", "valid", v)

    def f_id15(self) -> None:
        self._lab(self.ids15.take(), "resident_id", "valid")

    def f_id_bad(self) -> None:
        self._lab(self._bad_id(), "resident_id", "invalid")

    def f_id_masked(self) -> None:
        v = self.ids.take()
        x = self.r.random()
        masked = (
            v[:6] + "*" * 8 + v[14:]
            if x < 0.6
            else v[:3] + "*" * 11 + v[14:]
            if x < 0.8
            else v[:14] + "****"
        )
        self._lab(masked, "resident_id", "masked")

    def f_id_any(self) -> None:
        x = self.r.random()
        if x < 0.06:
            self.f_id_masked()
        elif x < 0.11:
            self.f_id_bad()
        elif x < 0.15:
            self.f_id15()
        else:
            self.f_id()

    def f_mobile(self) -> None:
        v = self.mobiles.take()
        self._lab(self._fmt_mobile(v), "mobile", "valid", v)

    def f_mobile_masked(self) -> None:
        v = self.mobiles.take()
        self._lab(
            v[:3] + "****" + v[7:] if self.r.random() < 0.8 else v[:7] + "****", "mobile", "masked"
        )

    def f_mobile_any(self) -> None:
        (self.f_mobile_masked if self.r.random() < 0.1 else self.f_mobile)()

    def f_card(self) -> None:
        v = self.cards.take()
        self._lab(self._fmt_card(v), "bank_card", "valid", v)

    def f_card_any(self) -> None:
        x = self.r.random()
        if x < 0.07:
            v = self.cards.take()
            masked = (
                v[:6] + "*" * (len(v) - 10) + v[-4:] if x < 0.05 else f"{v[:4]} **** **** {v[-4:]}"
            )
            self._lab(masked, "bank_card", "masked")
        elif x < 0.12:
            self._lab(self._bad_card(), "bank_card", "invalid")
        else:
            self.f_card()

    def landline_text(self) -> str:
        """A landline of a real area code in one of the ways they are written."""
        area, n = self.r.choice(LANDLINE_AREAS)
        local = str(self.r.randint(2, 8)) + "".join(self.r.choices("0123456789", k=n - 1))
        x = self.r.random()
        if x < 0.6:
            return f"{area}-{local}"
        if x < 0.7:
            return f"({area}){local}"
        if x < 0.8:
            return f"{area} {local[:-4]} {local[-4:]}"
        if x < 0.95:
            return area + local
        return f"+86-{area[1:]}-{local}"

    def email_text(self) -> str:
        if self.r.random() < 0.3:
            return f"{self.r.randint(10000, 3999999999)}@qq.com"
        local = self.r.choice(self.p.users) + self.r.choice(("", "", str(self.r.randint(1, 2024))))
        return f"{local}@{self.r.choice(EMAIL_DOMAINS)}"

    def f_landline(self) -> None:
        self._lab(self.landline_text(), "landline", "valid")

    def f_email(self) -> None:
        self._lab(self.email_text(), "email", "valid")

    def f_passport(self) -> None:
        prefix = "E" if self.r.random() < 0.85 else "G"
        self._lab(prefix + "".join(self.r.choices("0123456789", k=8)), "passport", "valid")

    def f_plate(self) -> None:
        head = self.r.choice(PLATE_PROVINCES) + self.r.choice(PLATE_LETTERS)
        if self.r.random() < 0.25:
            tail = self.r.choice("DF") + "".join(self.r.choices("0123456789", k=5))
        else:
            chars = self.r.choices("0123456789", k=5)
            if self.r.random() < 0.4:
                chars[self.r.randrange(5)] = self.r.choice(PLATE_LETTERS)
            tail = "".join(chars)
        self._lab(head + self.r.choice(("", "", "·")) + tail, "plate", "valid")

    # -- context and distractor fields (not identifiers)
    def f_bank(self) -> None:
        self._lit(self.r.choice(BANKS))

    def f_province(self) -> None:
        self._lit(self.r.choice(self.p.provinces))

    def f_city(self) -> None:
        self._lit(self.r.choice(self.p.cities))

    def f_company(self) -> None:
        self._lit(self.r.choice(self.p.companies))

    def f_nick(self) -> None:
        self._lit(self.r.choice(NICKS))

    def f_handle(self) -> None:
        self._lit(self.r.choice(self.p.users) + self.r.choice(("_data", "888", "_vip", "")))

    def f_date(self) -> None:
        y, m, d = self.r.randint(2018, 2025), self.r.randint(1, 12), self.r.randint(1, 28)
        self._lit(
            self.r.choice((f"{y}-{m:02d}-{d:02d}", f"{y}年{m}月{d}日", f"{y}/{m:02d}/{d:02d}"))
        )

    def f_time(self) -> None:
        self._lit(
            f"{self.r.randint(0, 23):02d}:{self.r.randint(0, 59):02d}:{self.r.randint(0, 59):02d}"
        )

    def f_ts(self) -> None:
        r = self.r
        self._lit(f"{r.randint(2018, 2025)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
                  f"{r.randint(0, 23):02d}{r.randint(0, 59):02d}{r.randint(0, 59):02d}")  # fmt: skip

    def f_order(self) -> None:
        self._lit(self.order_number())

    def order_number(self) -> str:
        """An 18-20 digit order number that fails both the Luhn and the MOD 11-2 checks."""
        while True:
            n = self.r.randint(18, 20)
            s = str(self.r.randrange(10 ** (n - 1), 10**n))
            if not luhn_ok(s) and not id_checksum_ok(s):
                return s

    def f_qq(self) -> None:
        self._lit(str(self.r.randint(10000, 3999999999)))

    def f_price(self) -> None:
        r = self.r
        self._lit(r.choice((f"¥{r.randint(1, 9)},{r.randint(0, 999):03d}.00", f"{r.randint(1, 50) * 100}元",
                            f"0.{r.randint(1, 9)}元/条", f"{r.randint(1, 9)}毛一条", f"${r.randint(50, 900)}",
                            f"{r.randint(1, 9)}.{r.randint(1, 9)}万")))  # fmt: skip

    def f_count(self) -> None:
        self._lit(self.r.choice(("500", "1000", "3000", "1万", "5万", "20万", "100", "30")))

    def f_tracking(self) -> None:
        r = self.r
        digits = "0123456789"
        self._lit(r.choice(("SF" + "".join(r.choices(digits, k=13)), "YT" + "".join(r.choices(digits, k=13)),
                            "JDVA" + "".join(r.choices(digits, k=11)), "75" + "".join(r.choices(digits, k=12)))))  # fmt: skip

    # -- multi-line blocks
    def f_rows(self) -> None:
        cols = self.r.choice(ROW_LAYOUTS)
        sep = self.r.choice(ROW_SEPARATORS)
        if self.r.random() < 0.4:
            self._lit(sep.join(ROW_HEADERS[c] for c in cols) + "\n")
        fields = [getattr(self, "f_" + c) for c in cols]
        for i in range(self.r.randint(3, 12)):
            if i:
                self._lit("\n")
            for j, f in enumerate(fields):
                if j:
                    self._lit(sep)
                f()

    def f_html_rows(self) -> None:
        for _ in range(self.r.randint(2, 6)):
            self._lit("<tr><td>")
            self.f_name()
            self._lit("</td><td>")
            self.f_id_any()
            self._lit("</td><td>")
            self.f_mobile()
            self._lit("</td><td>")
            self.f_addr()
            self._lit("</td></tr>\n")

    def f_car_rows(self) -> None:
        with_id = self.r.random() < 0.5
        for i in range(self.r.randint(3, 8)):
            if i:
                self._lit("\n")
            self.f_plate()
            self._lit(" ")
            self.f_name()
            self._lit(" ")
            self.f_mobile_any()
            if with_id:
                self._lit(" ")
                self.f_id_any()

    # -- table cells: (text, status), status None for columns that hold no identifier
    def cell(self, key: str) -> tuple[str, str | None]:
        r = self.r
        x = r.random()
        if key == "name":
            return r.choice(self.p.names), "valid"
        if key == "resident_id":
            if x < 0.01:
                return self._bad_id(), "invalid"
            if x < 0.025:
                v = self.ids.take()
                return v[:6] + "********" + v[14:], "masked"
            if x < 0.035:
                return self.ids15.take(), "valid"
            v = self.ids.take()
            return (v[:-1] + "x" if v[-1] == "X" and r.random() < 0.4 else v), "valid"
        if key == "mobile":
            v = self.mobiles.take()
            if x < 0.03:
                return v[:3] + "****" + v[7:], "masked"
            if x < 0.08:
                return f"{v[:3]}-{v[3:7]}-{v[7:]}", "valid"
            if x < 0.11:
                return "+86 " + v, "valid"
            return v, "valid"
        if key == "bank_card":
            if x < 0.01:
                v = self._bad_card()
                self.last_bin = v[:6]
                return v, "invalid"
            v = self.cards.take()
            self.last_bin = v[:6]
            if x < 0.03:
                return v[:6] + "*" * (len(v) - 10) + v[-4:], "masked"
            if x < 0.1:
                return " ".join(v[i : i + 4] for i in range(0, len(v), 4)), "valid"
            return v, "valid"
        if key == "address":
            return r.choice(self.p.addresses), "valid"
        if key == "email":
            return self.email_text(), "valid"
        if key == "landline":
            return self.landline_text(), "valid"
        if key == "bank":
            return BIN_BANK.get(self.last_bin) or r.choice(BANKS), None
        if key == "open_date":
            return f"{r.randint(2005, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}", None
        if key == "balance":
            return f"{r.lognormvariate(9, 1.5):.2f}", None
        if key == "customer_no":
            return self.order_number(), None
        if key == "remark":
            return r.choice(REMARKS), None
        raise ValueError(f"unknown table column {key!r}")


def make_documents(n: int, seed: int) -> list[Document]:
    """``n`` labelled forum posts and chat logs, the same for the same seed."""
    c = _Composer(seed, seed)
    return [c.document() for _ in range(n)]


# --- tables -----------------------------------------------------------------------------------

# key: (Chinese header, English header, kind or None)
TABLE_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "name": ("姓名", "name", "person_name"),
    "resident_id": ("身份证号", "id_card", "resident_id"),
    "mobile": ("手机号", "mobile", "mobile"),
    "bank_card": ("银行卡号", "card_no", "bank_card"),
    "bank": ("开户行", "bank", None),
    "address": ("地址", "address", "address"),
    "email": ("邮箱", "email", "email"),
    "landline": ("固定电话", "tel", "landline"),
    "open_date": ("开户日期", "open_date", None),
    "balance": ("余额", "balance", None),
    "customer_no": ("客户编号", "customer_no", None),
    "remark": ("备注", "remark", None),
}


def _empty_counts() -> dict[str, dict[str, int]]:
    return {k: dict.fromkeys(STATUSES, 0) for k in KINDS}


def _table_rows(
    c: _Composer, n: int, keys: Sequence[str], counts: dict[str, dict[str, int]]
) -> list[list[str]]:
    kinds = [TABLE_COLUMNS[k][2] for k in keys]
    rows = []
    for _ in range(n):
        row = []
        for key, kind in zip(keys, kinds, strict=True):
            text, status = c.cell(key)
            if kind is not None:
                counts[kind][status] += 1
            row.append(text)
        rows.append(row)
    return rows


def _header(keys: Sequence[str], header: str | None) -> list[str]:
    return [TABLE_COLUMNS[k][0 if header == "zh" else 1] for k in keys]


def write_table(
    path: str | Path,
    n_rows: int,
    seed: int,
    fmt: str = "csv",
    encoding: str = "utf-8",
    header: str | None = "zh",
    columns: Sequence[str] | None = None,
) -> DatasetTruth:
    """Write a customer table (``fmt`` csv, tsv, jsonl or xlsx; ``columns`` keys of
    TABLE_COLUMNS, all by default) and return its ground truth."""
    path = Path(path)
    keys = list(columns or TABLE_COLUMNS)
    counts = _empty_counts()
    rows = _table_rows(_Composer(seed, seed), n_rows, keys, counts)
    names = _header(keys, header) if header else [TABLE_COLUMNS[k][1] for k in keys]
    tmp = path.with_name(path.name + ".part")
    if fmt in ("csv", "tsv"):
        with open(tmp, "w", encoding=encoding, newline="") as f:
            w = csv.writer(f, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
            if header:
                w.writerow(names)
            w.writerows(rows)
    elif fmt == "jsonl":
        with open(tmp, "w", encoding=encoding, newline="\n") as f:
            for row in rows:
                f.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n")
    elif fmt == "xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
        ws = wb.add_worksheet()
        for i, row in enumerate(([names] if header else []) + rows):
            ws.write_row(i, 0, row)
        wb.close()
    else:
        raise ValueError(f"unknown table format {fmt!r}: csv, tsv, jsonl or xlsx")
    os.replace(tmp, path)
    kinds = {name: TABLE_COLUMNS[k][2] for name, k in zip(names, keys, strict=True)}
    return DatasetTruth(path, path.stat().st_size, n_rows, counts, kinds)


# --- big dumps (parallel, in deterministic chunks) --------------------------------------------

_PARALLEL_FROM = 8 * 1024 * 1024  # smaller dumps are written in-process
_TEXT_RECORD_BYTES = 350  # about the mean size of a document, for planning chunks
_TABLE_RECORD_BYTES = 200  # likewise of a table row


def _chunk_records(target_bytes: int, record_bytes: int, most: int) -> int:
    """Records per chunk: small dumps in small chunks, so they do not generate far past the end."""
    return max(20, min(most, target_bytes // (record_bytes * 8)))


def dump_documents(seed: int, index: int, n: int) -> list[Document]:
    """The ``n`` documents of chunk ``index`` of a text dump with ``seed``."""
    c = _Composer(seed * 1_000_003 + index + 1, seed)
    return [c.document() for _ in range(n)]


def text_dump_documents(target_bytes: int, seed: int) -> Iterator[Document]:
    """The labelled documents of ``write_text_dump(path, target_bytes, seed)``, in file order
    (the file holds each document's text followed by a blank line)."""
    per_chunk = _chunk_records(target_bytes, _TEXT_RECORD_BYTES, 2000)
    size, index = 0, 0
    while size < target_bytes:
        for d in dump_documents(seed, index, per_chunk):
            yield d
            size += len((d.text + "\n\n").encode("utf-8"))
            if size >= target_bytes:
                return
        index += 1


_Chunk = tuple[bytes, np.ndarray, np.ndarray]  # records, their sizes, their label counts


def _text_chunk(seed: int, index: int, n: int) -> _Chunk:
    counts = np.zeros((n, len(_SLOT)), np.int32)
    out = []
    for i, d in enumerate(dump_documents(seed, index, n)):
        out.append((d.text + "\n\n").encode("utf-8"))
        for lab in d.labels:
            counts[i, _SLOT[lab.kind, lab.status]] += 1
    return b"".join(out), np.array([len(b) for b in out], np.int64), counts


def _table_chunk(seed: int, index: int, n: int) -> _Chunk:
    c = _Composer(seed * 1_000_003 + index + 1, seed)
    kinds = [TABLE_COLUMNS[k][2] for k in TABLE_COLUMNS]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    out = []
    counts = np.zeros((n, len(_SLOT)), np.int32)
    for i in range(n):
        row = []
        for key, kind in zip(TABLE_COLUMNS, kinds, strict=True):
            text, status = c.cell(key)
            if kind is not None:
                counts[i, _SLOT[kind, status]] += 1
            row.append(text)
        buf.seek(0)
        buf.truncate()
        w.writerow(row)
        out.append(buf.getvalue().encode("utf-8"))
    return b"".join(out), np.array([len(b) for b in out], np.int64), counts


def _run_chunk(job: tuple[Callable[[int, int, int], _Chunk], int, int, int]) -> _Chunk:
    fn, seed, index, n = job
    return fn(seed, index, n)


def _write_dump(
    path: Path,
    target_bytes: int,
    seed: int,
    chunk: Callable[[int, int, int], _Chunk],
    record_bytes: int,
    per_chunk: int,
    head: bytes = b"",
    columns: dict[str, str | None] | None = None,
) -> DatasetTruth:
    """Write the records made by ``chunk`` (in worker processes when large) until the file
    holds ``target_bytes``; the file appears only when complete."""
    tmp = path.with_name(path.name + ".part")
    total = np.zeros(len(_SLOT), np.int64)
    size, records, index = len(head), 0, 0
    parallel = target_bytes >= _PARALLEL_FROM and (os.cpu_count() or 1) > 1
    pool = get_context("spawn").Pool(os.cpu_count()) if parallel else None
    try:
        with open(tmp, "wb") as f:
            f.write(head)
            while size < target_bytes:
                n = max(1, int((target_bytes - size) / (per_chunk * record_bytes) * 1.05) + 1)
                jobs = [(chunk, seed, index + k, per_chunk) for k in range(n)]
                index += n
                for blob, sizes, counts in (
                    pool.imap(_run_chunk, jobs) if pool else map(_run_chunk, jobs)
                ):
                    ends = np.cumsum(sizes)
                    keep = min(len(ends), int(np.searchsorted(ends, target_bytes - size)) + 1)
                    f.write(blob[: ends[keep - 1]])
                    size += int(ends[keep - 1])
                    records += keep
                    total += counts[:keep].sum(0)
                    if size >= target_bytes:
                        break
        os.replace(tmp, path)
    finally:
        if pool:
            pool.terminate()
        tmp.unlink(missing_ok=True)
    counts_out = {k: {s: int(total[_SLOT[k, s]]) for s in STATUSES} for k in KINDS}
    return DatasetTruth(path, size, records, counts_out, columns or {})


def write_text_dump(path: str | Path, target_bytes: int, seed: int) -> DatasetTruth:
    """Forum posts and chat logs (UTF-8, a blank line after each) until the file holds
    ``target_bytes``; returns the number of labelled values per kind and status (the labels
    themselves: :func:`text_dump_documents`)."""
    per_chunk = _chunk_records(target_bytes, _TEXT_RECORD_BYTES, 2000)
    return _write_dump(Path(path), target_bytes, seed, _text_chunk, _TEXT_RECORD_BYTES, per_chunk)


def write_table_dump(path: str | Path, target_bytes: int, seed: int) -> DatasetTruth:
    """A customer table as UTF-8 CSV with a Chinese header and all TABLE_COLUMNS, until the
    file holds ``target_bytes``; returns its ground truth."""
    head = (",".join(_header(list(TABLE_COLUMNS), "zh")) + "\n").encode("utf-8")
    columns = {zh: kind for zh, _, kind in TABLE_COLUMNS.values()}
    per_chunk = _chunk_records(target_bytes, _TABLE_RECORD_BYTES, 20000)
    return _write_dump(
        Path(path), target_bytes, seed, _table_chunk, _TABLE_RECORD_BYTES, per_chunk, head, columns
    )
