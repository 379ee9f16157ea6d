"""After-hours answers in other languages move from one Spanish column to a map by language code.

A new language then needs no migration: the policy form shows one reply per language in settings.LANGUAGES.
"""

from django.db import migrations, models

import careline.messaging.models


def spanish_into_translations(apps, schema_editor):
    MessagingPolicy = apps.get_model("messaging", "MessagingPolicy")
    for policy in MessagingPolicy.objects.all():
        text = (policy.after_hours_text_es or "").strip()
        policy.after_hours_translations = {"es": text} if text else {}
        policy.save(update_fields=["after_hours_translations"])


def translations_into_spanish(apps, schema_editor):
    MessagingPolicy = apps.get_model("messaging", "MessagingPolicy")
    for policy in MessagingPolicy.objects.all():
        policy.after_hours_text_es = (policy.after_hours_translations or {}).get("es", "")
        policy.save(update_fields=["after_hours_text_es"])


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0011_suppressed_without_purpose_consent"),
    ]

    operations = [
        migrations.AddField(
            model_name="messagingpolicy",
            name="after_hours_translations",
            field=models.JSONField(
                blank=True, default=careline.messaging.models.default_after_hours_translations
            ),
        ),
        migrations.RunPython(spanish_into_translations, translations_into_spanish),
        migrations.RemoveField(model_name="messagingpolicy", name="after_hours_text_es"),
    ]
