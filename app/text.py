"""Rules for plain text people type: one-line fields, and texts derived from them that must
fit their column or header.

Titles, names and labels end up in e-mail subjects, iCalendar summaries, CSV exports and
notification titles, where a line break either breaks the format or is refused outright
(an e-mail header may not contain one). So one-line fields refuse line breaks and control
characters on input, and derived texts are cut to fit rather than overflow a column.
"""

import unicodedata

#: Every character that ends a line for some reader (``str.splitlines`` knows them all).
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
ELLIPSIS = "…"
ONE_LINE_MESSAGE = "Keep this on one line: line breaks and control characters are not allowed."


def one_line_problem(value: str) -> str | None:
    """Why ``value`` cannot be a one-line field (a title, a name, a label), or None."""
    if any(char in LINE_BREAKS or unicodedata.category(char) == "Cc" for char in value):
        return ONE_LINE_MESSAGE
    return None


def as_one_line(value: str) -> str:
    """Line breaks and control characters as single spaces (for text stored before the rule)."""
    return " ".join("".join(
        " " if char in LINE_BREAKS or unicodedata.category(char) == "Cc" else char
        for char in value).split())


def fit(value: str, limit: int) -> str:
    """``value`` on one line and at most ``limit`` characters, cut at a word with an ellipsis."""
    value = as_one_line(value)
    if len(value) <= limit:
        return value
    cut = value[:limit - len(ELLIPSIS)]
    if " " in cut[limit // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + ELLIPSIS
