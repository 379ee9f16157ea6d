"""Numbers and ids from query parameters and hidden form fields, refused (None) rather than overflowing.

`str.isdigit()` accepts characters such as '²' that `int()` refuses, and a 30-digit id overflows the
database's 64-bit integers; both used to end in a 500.
"""

from __future__ import annotations

MAX_ROW_ID = 2**63 - 1


def row_id(raw: object) -> int | None:
    """A database id (1 to 2**63-1) written in ASCII digits, else None."""
    text = str(raw).strip() if raw is not None else ""
    if not text or len(text) > 19 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def page_number(raw: object, maximum: int) -> int:
    """A 1-based page number from RAW, 1 when it is missing or not a number, at most MAXIMUM."""
    text = str(raw).strip() if raw is not None else ""
    if not text or len(text) > 9 or not text.isascii() or not text.isdigit():
        return 1
    return min(max(int(text), 1), maximum)
