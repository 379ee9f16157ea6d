"""Reminder rule texts in other languages move from one Spanish column to a map by language code.

A new language then needs no migration: the rule form shows one text per language in settings.LANGUAGES.
"""

from django.db import migrations, models


def spanish_into_translations(apps, schema_editor):
    ReminderRule = apps.get_model("scheduling", "ReminderRule")
    for rule in ReminderRule.objects.exclude(template_es=""):
        rule.translations = {"es": rule.template_es}
        rule.save(update_fields=["translations"])


def translations_into_spanish(apps, schema_editor):
    ReminderRule = apps.get_model("scheduling", "ReminderRule")
    for rule in ReminderRule.objects.all():
        rule.template_es = (rule.translations or {}).get("es", "")
        rule.save(update_fields=["template_es"])


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0004_reply_prompts_move_to_messaging"),
    ]

    operations = [
        migrations.AddField(
            model_name="reminderrule",
            name="translations",
            field=models.JSONField(
                blank=True, default=dict, help_text="The text in each other language, by language code"
            ),
        ),
        migrations.RunPython(spanish_into_translations, translations_into_spanish),
        migrations.RemoveField(model_name="reminderrule", name="template_es"),
        migrations.AlterField(
            model_name="reminderrule",
            name="template_en",
            field=models.TextField(help_text="The text in English, sent when no translation fits"),
        ),
    ]
