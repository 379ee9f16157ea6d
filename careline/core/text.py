"""Text folding for search keys."""

from __future__ import annotations

import unicodedata

from django.db import connection
from django.db.models import Q


def search_key(text: str) -> str:
    """Lower-case, accent-free, single-spaced form of TEXT, used to index and match names."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().replace("-", " ").replace("'", "").split())


def prefix_q(field: str, prefix: str) -> Q:
    """A filter for FIELD starting with PREFIX that an index can answer on both databases.

    PostgreSQL answers LIKE 'abc%' from the varchar_pattern_ops index Django adds to indexed text
    columns; SQLite's LIKE is case-insensitive and cannot use a plain index, so it gets a range on the
    binary collation instead (U+10FFFF sorts after every other character in UTF-8).
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__startswith": prefix})
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})
