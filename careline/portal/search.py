"""The portal's search box: each area of the portal registers how to search the open record's part of it.

    @search_source(section=PortalSection.RESULTS, order=30)
    def results_matching(session: PortalSession, words: list[str], limit: int) -> list[SearchHit]:
        ...

A source searches only `session.patient`'s rows (the page asks a source only when its section is granted),
at most LIMIT hits, newest first. Words are the query's words, lower-cased; a hit matches every word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from careline.portal.access import PortalSession

# How many hits each area shows; more is a sign to use the area's own page.
HITS_PER_SOURCE = 10
MAX_WORDS = 8
MAX_QUERY_CHARS = 100


@dataclass(frozen=True)
class SearchHit:
    """One thing found: what it is, a line to recognise it by, when, and where to open it."""

    kind: str
    title: str
    url: str
    when: datetime | None = None
    summary: str = ""


SourceFunction = Callable[["PortalSession", list[str], int], list[SearchHit]]


@dataclass(frozen=True)
class SearchSource:
    section: str | None
    order: int
    label: str
    search: SourceFunction


_sources: dict[str, SearchSource] = {}


def search_source(
    *, label: str, section: str | None, order: int = 100
) -> Callable[[SourceFunction], SourceFunction]:
    """Register the decorated function as the search of one area (LABEL heads its hits)."""

    def register(fn: SourceFunction) -> SourceFunction:
        _sources[f"{fn.__module__}.{fn.__qualname__}"] = SearchSource(section, order, label, fn)
        return fn

    return register


def search_words(query: str) -> list[str]:
    """The words of QUERY worth searching for: lower-case, at most MAX_WORDS, none shorter than 2 letters."""
    words = [word for word in query[:MAX_QUERY_CHARS].lower().split() if len(word) >= 2]
    return words[:MAX_WORDS]


def portal_search(session: PortalSession, query: str) -> list[tuple[str, list[SearchHit]]]:
    """(label, hits) per area of SESSION's open record that matched QUERY, in the areas' order."""
    words = search_words(query)
    if not words:
        return []
    found = []
    for source in sorted(_sources.values(), key=lambda s: (s.order, s.label)):
        if source.section is not None and not session.may(source.section):
            continue
        hits = source.search(session, words, HITS_PER_SOURCE)
        if hits:
            found.append((source.label, hits))
    return found
