"""Free text that people read (a video title, a payment reference): what it may not hold.

Plain Python, no I/O. A text is refused when what a reader sees would differ from what is
stored: control characters (C0, DEL, C1: a NUL cut the reference at the bank or in a CSV
cell), line and paragraph separators, bidirectional controls (`abc\\u202egpj.exe` shows as
`abcexe.jpg`), or nothing visible at all (whitespace and invisible format characters only).
Format characters between visible ones stay allowed: the zero-width joiner builds emoji
sequences and the soft hyphen is a hint, neither changes what is read.
"""

from __future__ import annotations

import unicodedata

from domain.errors import BadText

# U+061C ARABIC LETTER MARK, U+200E/F LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK, U+202A-202E the
# embeddings and overrides, U+2066-2069 the isolates.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters that render as nothing: the Hangul fillers (a Korean platform's classic blank name)
# and the Braille blank; besides these, whitespace and format characters (category Cf, e.g.
# U+200B-200D, U+2060, U+FEFF) are invisible.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _describe(ch: str, index: int) -> str:
    return f"U+{ord(ch):04X} at character {index + 1}"


def text_problem(text: str) -> str | None:
    """Why the text may not be stored as shown to people, or None (an empty text is the
    caller's to judge)."""
    visible = False
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zl", "Zp"):
            return f"must not contain control characters ({_describe(ch, index)})"
        if ch in BIDI_CONTROLS:
            return (
                f"must not contain bidirectional control characters ({_describe(ch, index)}): "
                "they show the text in another order than it is stored"
            )
        if not visible and not (ch.isspace() or category == "Cf" or ch in INVISIBLE_LETTERS):
            visible = True
    if text and not visible:
        return "must contain a visible character (it holds only whitespace or invisible characters)"
    return None


def require_plain_text(text: str, field: str) -> None:
    """Raises BadText naming the field when text_problem finds something."""
    problem = text_problem(text)
    if problem:
        raise BadText(problem, field=field)
