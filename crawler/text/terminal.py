"""Text made safe for a terminal: what a stranger's page put in a title, a tag or a URL must never
reach the terminal as a control sequence (ESC, BEL, CSI U+009B, OSC U+009D) or reorder what is shown
(bidi overrides such as U+202E).

Every character that is a control (C0 other than newline and tab, DEL, C1) or a bidi formatting
character is written as a visible escape, `\\u001b`: readable in a table and, inside a JSON string, the
same escape JSON itself uses, so JSON output stays valid (json.dumps with ensure_ascii=False lets C1
and bidi characters through raw).
"""

from __future__ import annotations

import re

from provnews.crawler.text.vietnamese import BIDI_CONTROLS

_UNSAFE = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_safe(text: str) -> str:
    """`text` with every control and bidi formatting character (newline and tab kept) escaped."""
    return _UNSAFE.sub(_escape, text)
