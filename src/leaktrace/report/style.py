"""What the HTML reports share in look: the font chain with its CJK fallbacks (so Chinese text
renders on Debian with ``fonts-noto-cjk``, on Windows and on macOS) and the page's base CSS."""

from __future__ import annotations

# System UI first, then the Chinese fonts a reader's machine most likely has.
FONTS = (
    'system-ui, "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif'
)

BASE_CSS = f"""
body{{font-family:{FONTS};margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222;
line-height:1.45}}
svg text{{font-family:{FONTS}}}
h1{{font-size:1.45rem}}h2{{font-size:1.12rem;margin-top:1.8rem}}
table{{border-collapse:collapse}}th,td{{padding:.3rem .6rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}}th,td.kind{{white-space:nowrap}}td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums}}
.muted{{color:#666}}.warn{{color:#a15c00}}.flag{{color:#b00;font-weight:bold}}code{{font-size:.9em}}
figure{{margin:.4rem 0}}.legend{{font-size:.9rem}}
.legend span[data-colour]{{margin-right:1.2em;white-space:nowrap}}.legend .note{{display:block}}
#verdict{{border:2px solid var(--sev);border-left-width:.6rem;border-radius:.3rem;
padding:.6rem 1rem;margin:1rem 0}}
#verdict .title{{font-size:1.3rem;font-weight:bold;color:var(--sev);display:flex;
align-items:center;gap:.5rem}}
#verdict .sev{{font-size:.85rem;font-weight:normal;color:#444}}
#verdict dl{{margin:.4rem 0 0}}#verdict dt{{font-weight:bold;margin-top:.3rem}}
#verdict dd{{margin:0}}
"""


def lang_tag(lang: str) -> str:
    """The HTML ``lang`` of a report in ``lang`` (zh-CN for Chinese)."""
    return "zh-CN" if lang == "zh" else "en"
