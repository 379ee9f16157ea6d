"""The help assistant's knowledge: answers to frequent questions and the words that mean an emergency.

Administrators manage both in the staff app (careline/portal/views/staff.py). Each row is in one language
(a code of settings.LANGUAGES): the assistant answers a patient from the rows of the patient's language.
"""

from __future__ import annotations

from django.db import models

from careline.core.languages import language_choices


class FaqEntry(models.Model):
    """A frequent question and its answer, found by the assistant outside opening hours."""

    language = models.CharField(max_length=5, choices=language_choices, default="en")
    question = models.CharField(max_length=200)
    answer = models.TextField(max_length=2000)
    keywords = models.CharField(
        max_length=300, blank=True, help_text="Other words patients use for this, separated by commas"
    )
    is_active = models.BooleanField("active", default=True)
    order = models.PositiveSmallIntegerField(default=100, help_text="Lower shows first")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "order", "question", "pk"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"
        indexes = [models.Index(fields=["language", "is_active"], name="portal_faq_language_active")]

    def __str__(self) -> str:
        return self.question

    @property
    def keyword_list(self) -> list[str]:
        return [word.strip() for word in self.keywords.split(",") if word.strip()]


class UrgentPhrase(models.Model):
    """Words that, in any message a patient writes in the portal, show emergency guidance at once."""

    phrase = models.CharField(max_length=80)
    language = models.CharField(max_length=5, choices=language_choices, default="en")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language", "phrase"]
        constraints = [
            models.UniqueConstraint(fields=["phrase", "language"], name="portal_urgent_phrase_unique")
        ]

    def __str__(self) -> str:
        return self.phrase
