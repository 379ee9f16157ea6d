"""The cards of the portal's Home page, registered by each area of the portal.

An area (appointments, messages, results...) adds a card with a function of the `PortalSession`:

    @home_card(order=10)
    def next_visit_card(session: PortalSession) -> HomeCard | None:
        if not session.may(PortalSection.APPOINTMENTS):
            return None
        return HomeCard(template="portal/appointments/_home_next_visit.html", context={...})

A card reads only the open record, in a query or two (Home runs every card), and returns None to show
nothing. Its module must be imported by the portal's AppConfig.ready() so the card is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from careline.portal.access import PortalSession


@dataclass(frozen=True)
class HomeCard:
    """A card to show: its template and what the template needs."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


CardFunction = Callable[["PortalSession"], HomeCard | None]

_cards: dict[str, tuple[int, CardFunction]] = {}


def home_card(*, order: int = 100) -> Callable[[CardFunction], CardFunction]:
    """Register the decorated function as a Home card; lower ORDER shows first."""

    def register(fn: CardFunction) -> CardFunction:
        _cards[f"{fn.__module__}.{fn.__qualname__}"] = (order, fn)
        return fn

    return register


def home_cards(session: PortalSession) -> list[HomeCard]:
    """The cards SESSION's Home shows, in order."""
    ordered = sorted(_cards.items(), key=lambda item: (item[1][0], item[0]))
    cards = (fn(session) for _, (_, fn) in ordered)
    return [card for card in cards if card is not None]
