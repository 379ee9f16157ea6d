"""Counts shown on the main navigation ("Inbox 3"), supplied by the apps that own them.

Core draws the navigation but knows no domain: an app registers a provider in its AppConfig.ready()
(`register_nav_badge("inbox", inbox_nav_badge)`), called as `provider(user)` and answering a count or None
(nothing to show, or not the person's business). A provider must stay one cheap query: it runs on every page
that shows the navigation, and again when the badge refreshes itself (core's `nav_badges` view).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NavBadgeProvider = Callable[[Any], "int | None"]

_providers: dict[str, NavBadgeProvider] = {}


def register_nav_badge(name: str, provider: NavBadgeProvider) -> None:
    """Show PROVIDER's count beside the navigation entry NAME ("inbox")."""
    _providers[name] = provider


def nav_badge_names() -> list[str]:
    """The names of the registered badges."""
    return sorted(_providers)


def nav_badge_count(name: str, user: Any) -> int | None:
    """The count of badge NAME for USER; None when there is no such badge or nothing to show."""
    provider = _providers.get(name)
    if provider is None or user is None or not user.is_authenticated:
        return None
    return provider(user)


class NavBadges:
    """The badges of one page, each asked for only when the template reads it (`nav_badges.inbox`)."""

    def __init__(self, user: Any, known: dict[str, int | None] | None = None) -> None:
        self._user = user
        self._counts: dict[str, int | None] = dict(known or {})

    def __getitem__(self, name: str) -> int | None:
        if name not in self._counts:
            self._counts[name] = nav_badge_count(name, self._user)
        return self._counts[name]

    def __contains__(self, name: object) -> bool:
        return name in _providers
