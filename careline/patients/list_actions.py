"""Actions on the staff patient list's current search that features above patients register, so patients
never names their routes (like the patient page's sections, careline/patients/page_sections.py).

A feature adds a link from its AppConfig.ready():

    from careline.patients.list_actions import patient_list_action_register

    def invite_url(user, text) -> str | None:
        if not has_perm(user, Perm.PORTAL_INVITE):
            return None  # not shown to this person
        return f"{reverse('portal_admin:invite_bulk')}?{urlencode({'q': text})}"

    patient_list_action_register(code="portal-invite", label="Invite these patients to the portal",
                                 url=invite_url, order=20)

The URL function gets the user and the list's search text (the same words the list searched, so the page it
opens can repeat that search; an empty text is every patient the user may see). It checks its own permission
first and returns None to show nothing; it reads nothing (it runs on every keystroke of the search box). The
page it links to must check access again: the link is a convenience, never the permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.text import slugify

ActionURL = Callable[[Any, str], "str | None"]


@dataclass(frozen=True)
class PatientListAction:
    """A registered action: its code (unique), the link's words, its URL function and place (low first)."""

    code: str
    label: str
    url: ActionURL
    order: int = 100


@dataclass(frozen=True)
class ShownListAction:
    """An action ready to show: its code, words and link for this user and search."""

    code: str
    label: str
    href: str


_actions: dict[str, PatientListAction] = {}


def patient_list_action_register(
    *, code: str, label: str, url: ActionURL, order: int = 100
) -> PatientListAction:
    """Add a link to the patient list. A code is a slug, registered once (the same function again is a no-op,
    so a repeated ready() is harmless); another function under a taken code is refused."""
    if not code or slugify(code) != code:
        raise ValueError(f"patient list action code {code!r}: use a short slug such as 'portal-invite'")
    action = PatientListAction(code=code, label=label, url=url, order=order)
    existing = _actions.get(code)
    if existing is not None and existing != action:
        raise ValueError(f"patient list action {code!r} is already registered by {existing.url.__module__}")
    _actions[code] = action
    return action


def patient_list_action_unregister(code: str) -> None:
    """Remove the action CODE (tests)."""
    _actions.pop(code, None)


def patient_list_actions_for(user: Any, text: str) -> list[ShownListAction]:
    """The actions USER is offered on the patient list searched for TEXT, in order."""
    shown = []
    for action in sorted(_actions.values(), key=lambda a: (a.order, a.code)):
        href = action.url(user, text)
        if href:
            shown.append(ShownListAction(code=action.code, label=action.label, href=href))
    return shown
