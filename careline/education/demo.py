"""The demo clinic's education library (called by careline/demo when it loads the clinic).

Articles in English and Spanish, a video link, and the hypertension program sending its article on the day of
enrolment and the salt article three days later. Nothing is texted while loading: the program sweep sends
them to the enrolled patients once the platform runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from careline.care.models import CareProgram
from careline.education.models import EducationItem, ItemKind, ProgramItem

ITEMS: tuple[dict[str, Any], ...] = (
    {
        "key": "bp-en", "title": "Checking your blood pressure at home", "topic": "heart", "language": "en",
        "reading_level": 6, "summary": "How to sit, when to measure, what to write down.",
        "body": "# Before you measure\n\nSit quietly for five minutes. Keep your feet flat and your arm on a "
        "table.\n\n# Each time\n\n- Use the same arm.\n- Take two readings, one minute apart.\n- Write both "
        "down, with the time.\n\nCall the clinic if a reading is **much higher than usual**.",
    },
    {
        "key": "bp-es", "title": "Cómo tomarse la presión en casa", "topic": "heart", "language": "es",
        "reading_level": 6, "summary": "Cómo sentarse, cuándo medir, qué anotar.",
        "body": "# Antes de medir\n\nSiéntese tranquilo cinco minutos. Los pies en el suelo y el brazo sobre "
        "la mesa.\n\n# Cada vez\n\n- Use el mismo brazo.\n- Tome dos lecturas, con un minuto entre ellas.\n"
        "- Anote las dos, con la hora.\n\nLlame a la clínica si una lectura es **mucho más alta de lo normal**.",
    },
    {
        "key": "salt-en", "title": "Eating less salt", "topic": "nutrition", "language": "en", "reading_level": 5,
        "summary": "Simple swaps for everyday meals.",
        "body": "Most salt comes from packaged food.\n\n- Read labels.\n- Cook with herbs and lemon.\n"
        "- Rinse canned beans.",
    },
    {
        "key": "salt-es", "title": "Comer con menos sal", "topic": "nutrition", "language": "es", "reading_level": 5,
        "summary": "Cambios sencillos para las comidas de cada día.",
        "body": "La mayor parte de la sal viene de la comida envasada.\n\n- Lea las etiquetas.\n"
        "- Cocine con hierbas y limón.\n- Enjuague los frijoles de lata.",
    },
    {
        "key": "caregiver-en", "title": "Caring for someone at home: looking after yourself too",
        "topic": "caregiving", "language": "en", "reading_level": 7,
        "summary": "Rest, help from others, and when to call.",
        "body": "Caring for someone is work. Take breaks, accept help, and keep the clinic's number close.",
    },
    {
        "key": "video-en", "kind": ItemKind.VIDEO, "title": "Video: how to use an inhaler", "topic": "medications",
        "language": "en", "reading_level": 4, "summary": "A two-minute video.",
        "video_url": "https://www.example.org/videos/inhaler",
    },
)  # fmt: skip
PROGRAM_SCHEDULE = (("hypertension", "bp-en", 0), ("hypertension", "bp-es", 0), ("hypertension", "salt-en", 3),
                    ("hypertension", "salt-es", 3))  # fmt: skip


def education_seed_demo(*, author: Any, now: datetime) -> dict[str, int]:
    """The demo library and the hypertension program's schedule (idempotent by title)."""
    items: dict[str, EducationItem] = {}
    for spec in ITEMS:
        values = {key: value for key, value in spec.items() if key != "key"}
        values.setdefault("kind", ItemKind.ARTICLE)
        item, _ = EducationItem.objects.get_or_create(
            title=values.pop("title"),
            defaults={**values, "created_by": author, "created_at": now, "updated_at": now},
        )
        items[spec["key"]] = item
    attached = 0
    for code, key, day in PROGRAM_SCHEDULE:
        program = CareProgram.objects.filter(code=code).first()
        if program is None:
            continue
        _, created = ProgramItem.objects.get_or_create(
            program=program, item=items[key], day_offset=day, defaults={"created_at": now}
        )
        attached += int(created)
    return {"education_items": len(items), "education_program_items": attached}
