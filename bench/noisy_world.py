"""A noisy master/leak pair for the verify benchmark, written for the benchmark alone.

Nothing here comes from ``leaktrace`` (not its synth worlds, not its ID or mobile rules), so
the data carries none of the assumptions of the code it measures. Resident IDs follow
GB 11643-1999 (county-level division codes from Faker's zh_CN list, birth date, sequence whose
last digit is odd for men, MOD 11-2 check character); mobiles use mainland prefixes; names and
addresses are built from Faker's zh_CN pools and common given-name characters.

The master holds ``n_master`` customers (客户号, 姓名, 身份证号, 手机号, 地址, 出生日期,
开户日期). The leak holds ``n_leak`` records (姓名, 身份证号, 手机号, 地址; no card column):
``Noise.customers`` of them are customers, the rest are people not in the master, a share of
whom have a customer's name and birth date. Every leak record then gets, each at its stated
rate (:class:`Noise`), the damage real leaks carry: name typos (homophone or similar-looking
character, dropped or doubled character, traditional form), birth-date typos carried into the
ID with the check character recomputed, one-digit ID typos and adjacent transpositions with
the check left as it was, masked IDs and mobiles, changed mobiles, moved and differently
written addresses, missing values. The truth (leak row -> customer id or null, and which noise
each record got) is written beside the data.

The master is built column-wise with numpy and Polars (10M rows in well under a minute); only
the few per cent of leak records a noise touches are edited one by one.
Run ``python -m bench.noisy_world --master N --leak M --seed S --out DIR``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import polars as pl
from faker.providers.address.zh_CN import Provider as FakerAddress
from faker.providers.person.zh_CN import Provider as FakerPerson
from faker.providers.ssn.zh_CN import Provider as FakerSsn

# --- published rules ------------------------------------------------------------------------

# GB 11643-1999: weights 2^(17-i) mod 11 of the first 17 digits; the sum mod 11 picks the check.
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], np.int64)
ID_CHECK = "10X98765432"
# Mainland mobile prefixes (China Mobile, Unicom, Telecom, Broadnet), 11 digits in all.
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 145 147 149 150 151 152 153 155 156 157 158 159 "
    "162 165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 "
    "190 191 192 193 195 196 197 198 199"
).split()

# County-level division codes (those not ending in 00).
DIVISIONS = np.array([int(c) for c in FakerSsn.area_codes if not c.endswith("00")], np.int64)

# --- name and address pools ------------------------------------------------------------------

SURNAMES = list(FakerPerson.last_names)
SURNAME_WEIGHTS = np.array(list(FakerPerson.last_names.values()), np.float64)
SURNAME_WEIGHTS /= SURNAME_WEIGHTS.sum()
# Faker's given-name characters (drawn four times as often) and more common ones, so names
# repeat as in a real population: many namesakes, few of them born the same day.
_FAKER_GIVEN = set("".join(FakerPerson.first_names))
GIVEN_CHARS = sorted(
    _FAKER_GIVEN
    | set(
        "安柏宝蓓碧冰灿昌琛辰诚承驰崇楚川春淳聪翠达丹道德迪东栋端朵恩帆方菲斐芬丰锋福富"
        "钢高歌耕功冠光广贵国海寒翰航豪皓浩和河荷恒弘宏鸿虹厚华桦怀欢焕晖辉惠慧嘉佳家坚"
        "建剑江娇杰洁婕金锦瑾晋京晶精景静婧敬靖九菊娟君军俊峻骏开凯楷康可克坤岚蓝朗乐"
        "雷蕾黎力立丽利莉连良亮林琳霖玲凌龙隆露璐路伦罗曼茂梅美萌蒙梦敏民明鸣铭墨木娜"
        "楠妮宁凝鹏平萍琪奇启谦倩乔琴勤青清庆秋权群然仁荣蓉融如瑞若森莎杉珊善少绍胜"
        "诗石世仕淑舒爽顺思斯松颂素涛韬腾天甜婷庭彤威薇巍维伟玮炜蔚文雯武熙曦夏贤香"
        "翔祥向晓小心欣新馨鑫信星兴雄秀旭轩萱学雪勋雅亚岩彦艳燕扬阳杨瑶耀怡义艺亿毅"
        "茵音银英莹颖永勇咏优友宇羽雨语玉钰元园源远月悦跃云芸运泽增展章昭哲振正志智"
        "忠仲洲竹卓梓子紫宗"
    )
)
GIVEN_WEIGHTS = np.array([4.0 if c in _FAKER_GIVEN else 1.0 for c in GIVEN_CHARS])
GIVEN_WEIGHTS /= GIVEN_WEIGHTS.sum()
PROVINCES = [p for p in FakerAddress.provinces if not p.startswith(("台湾", "香港", "澳门"))]
MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
CITIES = sorted(set(FakerAddress.cities) - {"北京", "上海", "天津", "重庆", "台北", "香港", "澳门"})
DISTRICTS = sorted(set(FakerAddress.districts))
STREET_STEMS = sorted(
    set(FakerAddress.cities)
    | set("中山 人民 解放 建设 和平 新华 胜利 文化 友谊 光明 幸福 长江 黄河 东风 朝阳".split())
    | {s + "家" for s in SURNAMES[:40]}
)
STREET_KINDS = ("路", "街", "大道", "巷")

# --- typing noise tables ---------------------------------------------------------------------

# Characters typed for one another: same or near pronunciation, or similar shape.
CONFUSABLE = (
    "伟玮炜苇 丽莉俐 明铭鸣 华桦骅 军君钧均 静婧靖敬 敏民闵 杰洁婕 磊蕾 "
    "涛韬滔 刚钢纲 平萍苹 辉晖 飞菲霏 鑫欣馨新心 波博柏 斌彬宾 "
    "宇雨语羽玉 浩皓昊 凯楷恺 健建剑 俊骏峻 帆凡 旭煦 宁凝 龙隆 "
    "林琳霖麟 阳洋扬杨 峰锋枫丰 芳方 娜纳 英瑛莹颖 燕艳彦雁 娟鹃 "
    "红鸿宏虹弘 玲铃凌 婷庭亭 慧惠蕙 倩茜 梅玫 兰岚蓝 晶菁精 琴勤芹 云芸 "
    "佳嘉家 思斯丝 文雯闻 志智 春纯 晓小筱 永勇咏 成诚承城 荣蓉融 松嵩 "
    "张章 王汪 李黎 刘柳 陈程 黄皇 吴武伍 周邹 徐许 何贺 肖萧 于余俞 "
    "姜江 陆路 付傅 闫严 己已 末未 土士 日曰 天夫 千干 晴睛 "
    "琪淇棋祺"
).split()
CONFUSED: dict[str, str] = {c: g for g in CONFUSABLE for c in g}
TRADITIONAL = dict(
    zip(
        "华伟丽军刚红东龙凤张陈刘杨黄赵吴孙马郑谢韩冯邓萧叶苏吕卢钟陆贾韦龚钱严汤国宝"
        "鹏飞涛辉强杰凯宁兰云艳庆长学贤荣义礼晓岚进丰爱静颖梦汉纪书兴发伦胜达乐",
        "華偉麗軍剛紅東龍鳳張陳劉楊黃趙吳孫馬鄭謝韓馮鄧蕭葉蘇呂盧鍾陸賈韋龔錢嚴湯國寶"
        "鵬飛濤輝強傑凱寧蘭雲艷慶長學賢榮義禮曉嵐進豐愛靜穎夢漢紀書興發倫勝達樂",
        strict=True,
    )
)

LEAK_COLUMNS = ("姓名", "身份证号", "手机号", "地址")
MASTER_COLUMNS = ("客户号", "姓名", "身份证号", "手机号", "地址", "出生日期", "开户日期")
FIRST_CUSTOMER_ID = 6_200_000_001
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Noise:
    """Shares of leak records, each noise drawn independently per field; within a field
    the kinds exclude one another (an ID is typed wrong, or masked, or missing)."""

    customers: float = 0.70  # leak records that are customers; the rest are not in the master
    namesakes: float = 0.15  # of the non-customers: a customer's name and birth date
    name_typo: float = 0.05
    name_missing: float = 0.02
    id_birth_typo: float = 0.02  # a birth-date digit, check character recomputed
    id_digit_typo: float = 0.02  # any of the first 17 digits, check not recomputed
    id_transposed: float = 0.01  # two adjacent different digits swapped, check not recomputed
    id_masked: float = 0.10  # 110105********1234 or 1101051990******34, half each
    id_missing: float = 0.02
    mobile_changed: float = 0.10  # the customer has a new number
    mobile_masked: float = 0.10  # 138****5678
    mobile_typo: float = 0.01  # one digit after the prefix
    mobile_missing: float = 0.03
    addr_moved: float = 0.15
    addr_rewritten: float = 0.20  # 省/市 left out, 号 as 弄, 栋 as 幢, spaces
    addr_missing: float = 0.05

    def field_kinds(self, field: str) -> list[tuple[str, float]]:
        """(noise, rate) of one field (name, id, mobile, addr), in a fixed order."""
        return [
            (f.name, getattr(self, f.name)) for f in fields(self) if f.name.startswith(field + "_")
        ]


@dataclass(frozen=True)
class NoisyData:
    """Where one generated pair lives."""

    master: Path  # Parquet, MASTER_COLUMNS
    leak: Path  # Parquet, LEAK_COLUMNS (strings)
    leak_csv: Path  # the same records as UTF-8 CSV
    truth: Path  # Parquet: rid, customer_id (null: not a customer), one bool per noise


# --- people ----------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, pool: list[str], n: int, p: np.ndarray | None = None):
    """``n`` draws from ``pool`` as a Polars string Series (gathered, not built per row)."""
    return pl.Series(pool, dtype=pl.String).gather(rng.choice(len(pool), size=n, p=p))


def make_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Surname (by frequency) and one or two given-name characters (three in four: two)."""
    sur = _pick(rng, SURNAMES, n, SURNAME_WEIGHTS)
    g1 = _pick(rng, GIVEN_CHARS, n, GIVEN_WEIGHTS)
    g2 = _pick(rng, GIVEN_CHARS, n, GIVEN_WEIGHTS)
    two = pl.Series(rng.random(n) < 0.75)
    return pl.select(
        pl.concat_str(sur, g1, pl.when(two).then(g2).otherwise(pl.lit(""))).alias("name")
    ).to_series()


def make_births(rng: np.random.Generator, n: int) -> np.ndarray:
    """Birth dates 1945-01-01 .. 2006-12-31 as days since 1970-01-01."""
    lo, hi = (dt.date(1945, 1, 1) - EPOCH).days, (dt.date(2006, 12, 31) - EPOCH).days
    return rng.integers(lo, hi + 1, size=n)


def _ymd(days: np.ndarray) -> np.ndarray:
    """Days since 1970 as integers yyyymmdd."""
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = (d.astype("datetime64[M]") - d.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + day


def id_check(body: np.ndarray) -> pl.Series:
    """GB 11643 check characters of 17-digit bodies given as int64."""
    total = np.zeros(len(body), np.int64)
    for i, w in enumerate(ID_WEIGHTS):
        total += body // 10 ** (16 - i) % 10 * w
    return pl.Series(list(ID_CHECK)).gather(total % 11)


def id_bodies(rng: np.random.Generator, births: np.ndarray) -> np.ndarray:
    """First 17 digits (as int64) of resident IDs born on ``births`` (days since 1970):
    a county-level division, the birth date, a three-digit sequence."""
    n = len(births)
    return (
        rng.choice(DIVISIONS, size=n) * 10**11 + _ymd(births) * 1000 + rng.integers(0, 1000, size=n)
    )


def id_strings(body: np.ndarray) -> pl.Series:
    """18-character resident IDs: the bodies and their check characters."""
    return (pl.Series(body).cast(pl.String) + id_check(body)).alias("id")


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mainland mobile numbers as int64: a real prefix and eight random digits."""
    prefix = np.array(MOBILE_PREFIXES, dtype=np.int64)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    return prefix * 10**8 + rng.integers(0, 10**8, n)


def make_mobiles(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` mainland mobile numbers as strings."""
    return pl.Series("mobile", mobile_numbers(rng, n)).cast(pl.String)


def make_addresses(rng: np.random.Generator, n: int) -> pl.Series:
    """省 + 市 + 区 + street + 号 + 栋/单元/室 (a municipality stands for province and city)."""
    prov = _pick(rng, PROVINCES, n)
    city = _pick(rng, CITIES, n)
    muni = prov.is_in(MUNICIPALITIES)
    parts = pl.DataFrame(
        {
            "prov": prov,
            "city": pl.select(pl.when(muni).then(pl.lit("")).otherwise(city + "市")).to_series(),
            "dist": _pick(rng, DISTRICTS, n) + "区",
            "street": _pick(rng, STREET_STEMS, n) + _pick(rng, list(STREET_KINDS), n),
            "no": pl.Series(rng.integers(1, 1000, n)).cast(pl.String) + "号",
            "bld": pl.Series(rng.integers(1, 40, n)).cast(pl.String) + "栋",
            "unit": pl.Series(rng.integers(1, 7, n)).cast(pl.String) + "单元",
            "room": pl.Series(rng.integers(1, 33, n) * 100 + rng.integers(1, 7, n)).cast(pl.String)
            + "室",
        }
    )
    return parts.select(pl.concat_str(pl.all()).alias("addr")).to_series()


def _unique(make, n: int, taken: np.ndarray | None = None) -> np.ndarray:
    """``make(rows)`` for rows 0..n-1, every repeat (and every value in ``taken``) drawn again
    until none is left."""
    vals = make(np.arange(n))
    taken = None if taken is None else np.sort(taken)
    while True:
        order = np.argsort(vals, kind="stable")
        ranked = vals[order]
        bad = np.zeros(n, bool)
        bad[order[1:][ranked[1:] == ranked[:-1]]] = True
        if taken is not None and len(taken):
            at = np.minimum(np.searchsorted(taken, vals), len(taken) - 1)
            bad |= taken[at] == vals
        rows = np.flatnonzero(bad)
        if len(rows) == 0:
            return vals
        vals[rows] = make(rows)


def make_master(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """``n`` customers with unique IDs and mobiles (Chinese headers)."""
    births = make_births(rng, n)
    ids = _unique(lambda rows: id_bodies(rng, births[rows]), n)
    mobiles = _unique(lambda rows: mobile_numbers(rng, len(rows)), n)
    # accounts opened from the 18th birthday (and not before 1995) to mid-2026
    end = (dt.date(2026, 6, 30) - EPOCH).days
    first = np.maximum(births + 18 * 365 + 5, (dt.date(1995, 1, 1) - EPOCH).days)
    opened = np.minimum(first + (rng.random(n) * (end - first + 1)).astype(np.int64), end)
    return pl.DataFrame(
        {
            "客户号": np.arange(FIRST_CUSTOMER_ID, FIRST_CUSTOMER_ID + n, dtype=np.int64),
            "姓名": make_names(rng, n),
            "身份证号": id_strings(ids),
            "手机号": pl.Series(mobiles).cast(pl.String),
            "地址": make_addresses(rng, n),
            "出生日期": pl.Series(births).cast(pl.Date),
            "开户日期": pl.Series(opened).cast(pl.Date),
        }
    )


# --- the leak --------------------------------------------------------------------------------


def _outsiders(
    rng: np.random.Generator, master: pl.DataFrame, n: int, namesakes: float
) -> pl.DataFrame:
    """``n`` people not in ``master`` (IDs and mobiles none of its own); a ``namesakes``
    share has the name and birth date of a random customer."""
    births = make_births(rng, n)
    names = make_names(rng, n)
    same = np.flatnonzero(rng.random(n) < namesakes)
    if len(same):
        twin = master[rng.choice(master.height, size=len(same), replace=False)]
        births[same] = (twin["出生日期"].cast(pl.Int64)).to_numpy()
        names = names.scatter(same, twin["姓名"])
    taken_ids = master["身份证号"].str.slice(0, 17).cast(pl.Int64).to_numpy()
    ids = _unique(lambda rows: id_bodies(rng, births[rows]), n, taken_ids)
    taken_mobiles = master["手机号"].cast(pl.Int64).to_numpy()
    mobiles = _unique(lambda rows: mobile_numbers(rng, len(rows)), n, taken_mobiles)
    flag = np.zeros(n, bool)
    flag[same] = True
    return pl.DataFrame(
        {
            "customer_id": pl.Series([None] * n, dtype=pl.Int64),
            "姓名": names,
            "身份证号": id_strings(ids),
            "手机号": pl.Series(mobiles).cast(pl.String),
            "地址": make_addresses(rng, n),
            "namesake": flag,
        }
    )


def _typo_name(rng: np.random.Generator, name: str) -> str:
    """One typing error: a confusable or traditional character, or one dropped or doubled."""
    how = rng.random()
    pos = int(rng.integers(len(name)))
    if how < 0.15 and len(name) >= 3:
        return name[:pos] + name[pos + 1 :]
    if how < 0.25:
        return name[: pos + 1] + name[pos:]
    if how < 0.45:
        trad = [i for i, c in enumerate(name) if c in TRADITIONAL]
        if trad:
            i = trad[int(rng.integers(len(trad)))]
            return name[:i] + TRADITIONAL[name[i]] + name[i + 1 :]
    hits = [i for i, c in enumerate(name) if len(CONFUSED.get(c, "")) > 1]
    i = hits[int(rng.integers(len(hits)))] if hits else pos
    group = CONFUSED.get(name[i], "")
    others = [c for c in group if c != name[i]] or [c for c in GIVEN_CHARS if c != name[i]]
    return name[:i] + others[int(rng.integers(len(others)))] + name[i + 1 :]


def _typo_birth(rng: np.random.Generator, rid: str) -> str:
    """One birth-date digit typed wrong (still a real date), check character recomputed."""
    while True:
        pos = 6 + int(rng.integers(8))
        new = rid[:pos] + str(int(rng.integers(10))) + rid[pos + 1 : 17]
        if new[:17] == rid[:17]:
            continue
        try:
            dt.date(int(new[6:10]), int(new[10:12]), int(new[12:14]))
        except ValueError:
            continue
        if not 1900 <= int(new[6:10]) <= 2026:
            continue
        return new + ID_CHECK[sum(int(c) * w for c, w in zip(new, ID_WEIGHTS, strict=True)) % 11]


def _typo_digit(rng: np.random.Generator, value: str, first: int, last: int) -> str:
    """One digit in ``value[first:last]`` replaced by another; nothing recomputed."""
    pos = int(rng.integers(first, last))
    digit = str((int(value[pos]) + int(rng.integers(1, 10))) % 10)
    return value[:pos] + digit + value[pos + 1 :]


def _transpose(rng: np.random.Generator, rid: str) -> str:
    """Two adjacent, different digits of the first 17 swapped (check left as it was)."""
    cand = [i for i in range(16) if rid[i] != rid[i + 1]]
    i = cand[int(rng.integers(len(cand)))]
    return rid[:i] + rid[i + 1] + rid[i] + rid[i + 2 :]


def _rewrite_addr(rng: np.random.Generator, addr: str) -> str:
    """The same address written another way: province or 省/市 left out, 号 as 弄 or 号楼,
    栋 as 幢, 单元 dropped, a space between parts; one to three of these."""
    out = addr
    for how in rng.permutation(6)[: int(rng.integers(1, 4))]:
        if how == 0:
            for p in PROVINCES:
                if out.startswith(p) and p not in MUNICIPALITIES:
                    out = out[len(p) :]
                    break
        elif how == 1:
            out = out.replace("省", "", 1).replace("市", "", 1)
        elif how == 2:
            out = out.replace("号", "弄", 1)
        elif how == 3:
            out = out.replace("栋", "幢", 1)
        elif how == 4:
            out = out.replace("单元", "-", 1)
        else:
            cut = out.find("区")
            out = out[: cut + 1] + " " + out[cut + 1 :] if cut > 0 else out
    return out if out != addr else addr.replace("号", "号楼", 1)


def _mask_id(rng: np.random.Generator, rid: str) -> str:
    """110105********1234 or 1101051990******34."""
    if rng.random() < 0.5:
        return rid[:6] + "*" * 8 + rid[14:]
    return rid[:10] + "*" * 6 + rid[16:]


# Noises that put a new value in place of the old one, made for all touched rows at once.
FRESH = {"mobile_changed": make_mobiles, "addr_moved": make_addresses}
EDITS = {
    "name_typo": _typo_name,
    "id_birth_typo": _typo_birth,
    "id_digit_typo": lambda r, v: _typo_digit(r, v, 0, 17),
    "id_transposed": _transpose,
    "id_masked": _mask_id,
    "mobile_masked": lambda r, v: v[:3] + "****" + v[7:],
    "mobile_typo": lambda r, v: _typo_digit(r, v, 3, 11),
    "addr_rewritten": _rewrite_addr,
}


def _apply(rng: np.random.Generator, col: pl.Series, rows: np.ndarray, kind: str) -> pl.Series:
    """``col`` with the noise ``kind`` applied at ``rows`` (values there are not null: the
    kinds of one field exclude one another)."""
    if len(rows) == 0:
        return col
    if kind.endswith("_missing"):
        new = pl.Series([None] * len(rows), dtype=pl.String)
    elif kind in FRESH:
        new = FRESH[kind](rng, len(rows))
    else:
        new = pl.Series([EDITS[kind](rng, v) for v in col.gather(rows).to_list()], dtype=pl.String)
    return col.scatter(rows, new)


def make_leak(rng: np.random.Generator, master: pl.DataFrame, n: int, noise: Noise) -> pl.DataFrame:
    """``n`` leak records (shuffled) with the truth and noise flags beside them."""
    n_cust = round(n * noise.customers)
    pick = np.sort(rng.choice(master.height, size=n_cust, replace=False))
    cust = (
        master[pick]
        .select(pl.col("客户号").alias("customer_id"), *LEAK_COLUMNS)
        .with_columns(pl.lit(False).alias("namesake"))
    )
    df = pl.concat([cust, _outsiders(rng, master, n - n_cust, noise.namesakes)])
    df = df[rng.permutation(n)]
    cols = {c: df[c] for c in LEAK_COLUMNS}
    flags: dict[str, np.ndarray] = {}
    for field, col in (
        ("name", "姓名"),
        ("id", "身份证号"),
        ("mobile", "手机号"),
        ("addr", "地址"),
    ):
        u = rng.random(n)
        lo = 0.0
        for kind, rate in noise.field_kinds(field):
            hit = (u >= lo) & (u < lo + rate)
            lo += rate
            flags[kind] = hit
            cols[col] = _apply(rng, cols[col], np.flatnonzero(hit), kind)
    return pl.DataFrame(
        {"rid": np.arange(n, dtype=np.int64), "customer_id": df["customer_id"]}
        | cols
        | {"namesake": df["namesake"]}
        | flags
    )


def generate(
    n_master: int, n_leak: int, seed: int, out: Path, noise: Noise | None = None
) -> NoisyData:
    """Write master, leak (Parquet and CSV) and truth for ``seed`` under ``out``; the same
    arguments always give the same files."""
    noise = noise or Noise()
    if n_leak * noise.customers > n_master:
        raise ValueError("the leak's customers must fit in the master")
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    master = make_master(rng, n_master)
    leak = make_leak(rng, master, n_leak, noise)
    data = NoisyData(
        out / "master.parquet", out / "leak.parquet", out / "leak.csv", out / "truth.parquet"
    )
    _write(master, data.master)
    _write(leak.select(LEAK_COLUMNS), data.leak)
    tmp = data.leak_csv.with_suffix(".csv.tmp")
    leak.select(LEAK_COLUMNS).write_csv(tmp)
    tmp.replace(data.leak_csv)
    _write(leak.drop(LEAK_COLUMNS), data.truth)
    return data


def _write(df: pl.DataFrame, path: Path) -> None:
    """Parquet written to a temporary name, then renamed."""
    tmp = path.with_suffix(".parquet.tmp")
    df.write_parquet(tmp)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    """Generate one pair from the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--master", type=int, default=200_000, help="customers in the master")
    ap.add_argument("--leak", type=int, default=20_000, help="records in the leak")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "noisy")
    args = ap.parse_args(argv)
    data = generate(args.master, args.leak, args.seed, args.out)
    print(f"wrote {data.master}, {data.leak}, {data.leak_csv}, {data.truth}")
    print("noise rates:", asdict(Noise()))


if __name__ == "__main__":
    main()
