"""The demo clinic's education library: items in both languages, the hypertension program's schedule."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from careline.care.tests.support import MONDAY_8_CHICAGO, enrolled
from careline.education.demo import education_seed_demo
from careline.education.models import EducationItem, EducationSend, ProgramItem
from careline.education.services import education_program_sweep
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]


def test_the_demo_library_has_both_languages_and_the_program_sends_on_day_zero(
    personas: Personas, clock: Any
) -> None:
    enrolled(personas.pat, personas.clinician_a)  # seeds the programs and the simulator channel
    counts = education_seed_demo(author=personas.clinician_a, now=timezone.now())
    assert counts["education_items"] >= 5
    assert set(EducationItem.objects.values_list("language", flat=True)) == {"en", "es"}
    assert ProgramItem.objects.filter(program__code="hypertension").count() == 4
    assert (
        education_seed_demo(author=personas.clinician_a, now=timezone.now())["education_program_items"] == 0
    )
    assert education_program_sweep() == 1  # Pat (English) gets the English day-0 article
    assert EducationSend.objects.get().item.title == "Checking your blood pressure at home"
