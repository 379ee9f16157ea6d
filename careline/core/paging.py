"""Lists shown a page at a time, and the truth about a page past the last one.

A list asked for page 999 when it has 4 pages is not empty: it says so ("There is nothing on page 999; the
last page is 4", with a link) instead of "No patients yet". Templates include `careline/_page_beyond.html`.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

from django.core.paginator import Page, Paginator

from careline.core.params import page_number

# Page numbers beyond this are typos (or probes): they are read as "past the last page" like any other.
MAX_PAGE_NUMBER = 100_000


@dataclass(frozen=True)
class PageBeyond:
    """A page number past the end of a list that is not empty: what was asked, and the last page there is."""

    asked: int
    last: int


def page_beyond(asked: int, total: int, per_page: int) -> PageBeyond | None:
    """PageBeyond when page ASKED of a list of TOTAL rows, PER_PAGE a page, is past its last page."""
    last = max(ceil(total / per_page), 1)
    return PageBeyond(asked, last) if total and asked > last else None


def paginate(rows: Any, per_page: int, raw_page: object) -> tuple[Page[Any] | None, PageBeyond | None]:
    """The page of ROWS that RAW_PAGE (a query parameter) asks for, or (None, PageBeyond) past the last one.

    A missing or unreadable number is page 1; an empty list has an empty page 1.
    """
    paginator = Paginator(rows, per_page)
    asked = page_number(raw_page, MAX_PAGE_NUMBER)
    beyond = page_beyond(asked, paginator.count, per_page)
    if beyond is not None:
        return None, beyond
    return paginator.page(min(asked, paginator.num_pages)), None
