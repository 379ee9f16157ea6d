"""The four programs Careline ships with (administrators change their thresholds on the programs page)."""

from decimal import Decimal

from django.db import migrations

D = Decimal

PROGRAMS = [
    {
        "code": "hypertension",
        "name": "Hypertension",
        "duration_days": 90,
        "every_days": 1,
        "follow_up_days": 28,
        "instructions_en": "Take your readings seated, after 5 minutes of rest, before your medicines.",
        "instructions_es": "Tome su presión sentado, después de 5 minutos de descanso, antes de sus medicinas.",
        "measures": [
            {"measure": "blood_pressure", "warning_high": D(140), "critical_high": D(180), "critical_low": D(90),
             "second_warning_high": D(90), "second_critical_high": D(120)},
        ],
    },
    {
        "code": "type-2-diabetes",
        "name": "Type 2 diabetes",
        "duration_days": 90,
        "every_days": 1,
        "follow_up_days": 28,
        "instructions_en": "Check your sugar before breakfast. Keep your meter and strips with you.",
        "instructions_es": "Mida su azúcar antes del desayuno. Lleve su medidor y tiras con usted.",
        "measures": [
            {"measure": "glucose_fasting", "warning_low": D(70), "warning_high": D(180), "critical_low": D(54),
             "critical_high": D(300)},
        ],
    },
    {
        "code": "heart-failure",
        "name": "Heart failure",
        "duration_days": 60,
        "every_days": 1,
        "follow_up_days": 7,
        "weight_gain_kg": D(2),
        "weight_gain_days": 3,
        "instructions_en": "Weigh yourself each morning after using the bathroom, before eating.",
        "instructions_es": "Pésese cada mañana después de ir al baño y antes de comer.",
        "measures": [
            {"measure": "weight"},
            {"measure": "blood_pressure", "warning_high": D(150), "critical_high": D(180), "critical_low": D(85),
             "second_warning_high": D(95), "second_critical_high": D(120)},
            {"measure": "symptom", "yes_severity": "warning",
             "question_en": "Are you more short of breath than yesterday?",
             "question_es": "¿Le falta más el aire que ayer?"},
        ],
    },
    {
        "code": "post-surgery",
        "name": "Post-surgery recovery",
        "duration_days": 14,
        "every_days": 1,
        "follow_up_days": 14,
        "instructions_en": "Keep the wound clean and dry. Take your temperature each morning.",
        "instructions_es": "Mantenga la herida limpia y seca. Tome su temperatura cada mañana.",
        "measures": [
            {"measure": "temperature", "warning_high": D("38.0"), "critical_high": D("39.0")},
            {"measure": "pain", "warning_high": D(6), "critical_high": D(9)},
            {"measure": "spo2", "warning_low": D(93), "critical_low": D(90)},
        ],
    },
]


def seed(apps, schema_editor):
    CareProgram = apps.get_model("care", "CareProgram")
    ProgramMeasure = apps.get_model("care", "ProgramMeasure")
    for spec in PROGRAMS:
        spec = dict(spec)
        measures = spec.pop("measures")
        program, created = CareProgram.objects.get_or_create(
            code=spec["code"], defaults={**spec, "instructions_link": "/portal/"}
        )
        if created:
            for position, measure in enumerate(measures):
                ProgramMeasure.objects.create(program=program, position=position, **measure)


def unseed(apps, schema_editor):
    apps.get_model("care", "CareProgram").objects.filter(
        code__in=[p["code"] for p in PROGRAMS], enrolments__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
