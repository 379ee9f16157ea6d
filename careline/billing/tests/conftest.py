"""Fixtures of billing's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def default_followup_steps(db):
    """The default collections sequence, as the data migration seeds it (a transactional test's flush empties
    the table, so tests that rely on it ask for it)."""
    from careline.billing.models import FollowUpStep

    if not FollowUpStep.objects.exists():
        FollowUpStep.objects.bulk_create(
            [
                FollowUpStep(days_after=days, action=action)
                for days, action in [
                    (15, "reminder"),
                    (30, "second_channel"),
                    (60, "call_task"),
                    (90, "review"),
                ]
            ]
        )
