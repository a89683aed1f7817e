"""Pages a hostile site could serve, for the text-safety tests: terminal escapes and bidi overrides in
the title, text, tags and canonical URL, and a script inside the <h1>. Built from a fixture page."""

from __future__ import annotations

import json

from tests.paths import REPO

FIXTURE = REPO / "tests" / "fixtures" / "sites" / "baogialai" / "post-glo-figcaption"
ESC, BEL, CSI, OSC, RLO = "\x1b", "\x07", "\u009b", "\u009d", "\u202e"
# what must never be stored outside right-to-left text, nor reach a terminal raw
UNSAFE = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]] + [
    "\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)),
]  # fmt: skip


def fixture_url() -> str:
    return str(json.loads((FIXTURE / "meta.json").read_text(encoding="utf-8"))["url"])


def hostile_article(url: str | None = None) -> bytes:
    """The fixture article with escapes everywhere a reader looks; `url` replaces its own URL."""
    html = (FIXTURE / "page.html").read_text(encoding="utf-8")
    own = fixture_url()
    canonical = own.replace("-post", f"{ESC}]0;pwned{BEL}{ESC}[2J-post")
    html = html.replace(f'<link rel="canonical" href="{own}">', f'<link rel="canonical" href="{canonical}">')
    if url:
        html = html.replace(own.split("/")[2], url.split("/")[2]).replace("https://", "http://")
    html = html.replace('<meta property="og:title"', '<meta property="og:x"')  # the <h1> gives the title
    html = html.replace(
        "      Gia Lai bàn giải pháp",
        f"<script>document.title='{ESC}[31mhacked'</script>{CSI}31m{RLO}Gia Lai {OSC}bàn giải pháp",
    )
    html = html.replace("<p>Tham dự hội thảo", f"<p>{ESC}[2J{BEL}Tham dự {RLO}hội thảo{CSI}")
    html = html.replace("#cà phê</a>", f"#cà {RLO}phê{ESC}[5m</a>")
    return html.encode("utf-8")


def unsafe_in(text: str) -> list[str]:
    return sorted({c for c in text if c in UNSAFE})
