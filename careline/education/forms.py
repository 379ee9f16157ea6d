"""Forms of education: an item of the library, sending one, attaching one to a care program."""

from __future__ import annotations

from typing import Any

from django import forms

from careline.education.models import EducationItem, ItemKind, ItemLanguage, Topic
from careline.patients.models import Caregiver, Patient


class ItemForm(forms.ModelForm):
    upload = forms.FileField(
        required=False, label="PDF file", help_text="For a PDF item (checked by its content).",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )  # fmt: skip

    class Meta:
        model = EducationItem
        fields = [
            "title",
            "kind",
            "topic",
            "language",
            "reading_level",
            "summary",
            "body",
            "video_url",
            "is_active",
        ]
        labels = {
            "reading_level": "Reading level (school grade)",
            "summary": "Summary (staff only)",
            "body": "Article text",
            "video_url": "Video link",
            "is_active": "In the library (untick to withdraw)",
        }
        help_texts = {
            "body": "For an article. Blank lines separate paragraphs; '# ' starts a heading, '- ' a list item.",
            "video_url": "For a video: its https:// link.",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    topic = forms.ChoiceField(required=False, choices=[("", "Any topic"), *Topic.choices])
    language = forms.ChoiceField(required=False, choices=[("", "Any language"), *ItemLanguage.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *ItemKind.choices])


class SendForm(forms.Form):
    item = forms.ModelChoiceField(queryset=EducationItem.objects.none(), label="Item")
    recipient = forms.ChoiceField(label="Send to")

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["item"]
        field.queryset = EducationItem.objects.filter(is_active=True).order_by("title", "id")
        field.label_from_instance = lambda item: (
            f"{item.title} ({item.get_language_display()}, {item.get_kind_display()}, grade {item.reading_level})"
        )
        caregivers = Caregiver.objects.filter(patient=patient, is_active=True).order_by("name", "id")
        choices = [("patient", f"{patient.display_name} (the patient)")]
        for caregiver in caregivers:
            note = "" if caregiver.receives_care else " (does not receive care messages)"
            choices.append((f"caregiver:{caregiver.pk}", f"{caregiver.name}, {caregiver.relationship}{note}"))
        recipient: Any = self.fields["recipient"]
        recipient.choices = choices
        self.caregivers = {caregiver.pk: caregiver for caregiver in caregivers}

    def caregiver(self) -> Caregiver | None:
        """The chosen caregiver, or None for the patient."""
        value = self.cleaned_data["recipient"]
        if value == "patient":
            return None
        return self.caregivers[int(value.split(":", 1)[1])]


class AttachForm(forms.Form):
    item = forms.ModelChoiceField(queryset=EducationItem.objects.none(), label="Item")
    day_offset = forms.IntegerField(min_value=0, max_value=365, initial=0, label="Day after enrolment",
                                    help_text="0 is the day of enrolment.")  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["item"]
        field.queryset = EducationItem.objects.filter(is_active=True).order_by("title", "id")
        field.label_from_instance = lambda item: f"{item.title} ({item.get_language_display()})"
