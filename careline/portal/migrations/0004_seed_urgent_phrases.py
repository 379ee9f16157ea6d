"""The urgent words the help assistant starts with (administrators add and remove more)."""

from django.db import migrations

SEED = {
    "en": [
        "chest pain",
        "can't breathe",
        "cannot breathe",
        "trouble breathing",
        "heart attack",
        "stroke",
        "suicide",
        "suicidal",
        "kill myself",
        "end my life",
        "overdose",
        "overdosed",
        "severe bleeding",
        "unconscious",
    ],
    "es": [
        "dolor de pecho",
        "dolor en el pecho",
        "no puedo respirar",
        "ataque al corazón",
        "derrame cerebral",
        "suicidio",
        "suicidarme",
        "matarme",
        "quitarme la vida",
        "sobredosis",
        "sangrado grave",
        "inconsciente",
    ],
}


def seed(apps, schema_editor):
    UrgentPhrase = apps.get_model("portal", "UrgentPhrase")
    for language, phrases in SEED.items():
        for phrase in phrases:
            UrgentPhrase.objects.get_or_create(phrase=phrase, language=language)


def unseed(apps, schema_editor):
    UrgentPhrase = apps.get_model("portal", "UrgentPhrase")
    for language, phrases in SEED.items():
        UrgentPhrase.objects.filter(language=language, phrase__in=phrases).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_help_faq_and_urgent_phrases")]

    operations = [migrations.RunPython(seed, unseed)]
