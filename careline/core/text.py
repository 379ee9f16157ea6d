"""Text folding for search keys, and the characters no typed or imported value may hold."""

from __future__ import annotations

import unicodedata

from django.db import connection
from django.db.models import Q

# Bidirectional embeddings, overrides and isolates reorder how the text around them is displayed, so a
# name could show as something other than what is stored ("Trojan Source").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
CONTROL_CHARACTERS_MESSAGE = "Must not contain control characters."


def has_control_characters(text: str, *, allowed: str = "") -> bool:
    """Whether TEXT holds a control character (C0, DEL, C1) or a bidi override, other than ALLOWED ones."""
    return any(
        (ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch in BIDI_CONTROLS) and ch not in allowed for ch in text
    )


def search_key(text: str) -> str:
    """Lower-case, accent-free, single-spaced form of TEXT, used to index and match names."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().replace("-", " ").replace("'", "").split())


def _postgres_collation_is_bytewise() -> bool:
    """Whether this PostgreSQL database sorts text by code point (C, POSIX, C.UTF-8), checked once."""
    global _BYTEWISE
    if _BYTEWISE is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
            row = cursor.fetchone()
        _BYTEWISE = bool(row) and str(row[0]).split(".")[0].upper() in {"C", "POSIX"}
    return _BYTEWISE


_BYTEWISE: bool | None = None
_TOP = "\U0010ffff"  # sorts after every other character in code-point order


def prefix_q(field: str, prefix: str) -> Q:
    """A filter for FIELD starting with PREFIX that an index can answer on both databases.

    SQLite's LIKE is case-insensitive and cannot use a plain index, so it gets a range on the binary
    collation. PostgreSQL answers LIKE 'abc%' from the varchar_pattern_ops index Django adds to indexed
    text columns; when the database sorts by code point the same range is added, so composite indexes
    such as (primary_location, last_name_key) can seek to the prefix instead of filtering a whole location.
    """
    if connection.vendor == "postgresql":
        like = Q(**{f"{field}__startswith": prefix})
        if _postgres_collation_is_bytewise():
            return like & Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + _TOP})
        return like
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + _TOP})
