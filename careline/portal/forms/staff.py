"""Forms of the staff pages that manage the portal's help chat: FAQ entries and urgent words."""

from __future__ import annotations

from typing import Any

from django import forms

from careline.core.languages import language_choices
from careline.core.text import has_control_characters
from careline.portal.models import FaqEntry, UrgentPhrase


def _plain(value: str, label: str, *, allowed: str = "") -> str:
    if has_control_characters(value, allowed=allowed):
        raise forms.ValidationError(f"The {label} has characters that cannot be shown.")
    return value.strip()


class FaqEntryForm(forms.ModelForm):
    class Meta:
        model = FaqEntry
        fields = ["language", "question", "answer", "keywords", "order", "is_active"]
        widgets = {"answer": forms.Textarea(attrs={"rows": 5})}
        help_texts = {"language": "Patients who read the portal in this language get this answer."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"] = forms.ChoiceField(choices=language_choices)

    def clean_question(self) -> str:
        return _plain(self.cleaned_data["question"], "question")

    def clean_answer(self) -> str:
        return _plain(self.cleaned_data["answer"], "answer", allowed="\n\r\t")

    def clean_keywords(self) -> str:
        words = [word.strip() for word in _plain(self.cleaned_data["keywords"], "keywords").split(",")]
        return ", ".join(word for word in words if word)


class UrgentPhraseForm(forms.Form):
    phrase = forms.CharField(
        max_length=UrgentPhrase._meta.get_field("phrase").max_length or 80,
        help_text="Words that, in any portal message, show emergency guidance (call 911; call or text 988).",
    )
    language = forms.ChoiceField(choices=language_choices)

    def clean_phrase(self) -> str:
        phrase = " ".join(_plain(self.cleaned_data["phrase"], "phrase").split())
        if len(phrase) < 3:
            raise forms.ValidationError("Enter at least 3 characters.")
        return phrase
