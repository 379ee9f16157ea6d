"""Forms of staff training: authoring courses, lessons, questions, protocols and assignments; the export."""

from __future__ import annotations

from typing import Any

from django import forms

from careline.accounts.models import User
from careline.core.permissions import Role
from careline.locations.models import Location
from careline.training.models import Assignment, Course, Lesson, Protocol, Question


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["title", "summary", "pass_mark", "is_active"]
        labels = {"pass_mark": "Pass mark (%)", "is_active": "Offered (untick to withdraw)"}
        help_texts = {"pass_mark": "The share of quiz questions a person must get right, 0 to 100."}

    def clean_pass_mark(self) -> int:
        value = int(self.cleaned_data["pass_mark"])
        if value > 100:
            raise forms.ValidationError("A pass mark is a percentage from 0 to 100.")
        return value


class LessonForm(forms.ModelForm):
    video_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", label="Video link",
        help_text="For a video: its https:// link.",
    )  # fmt: skip
    upload = forms.FileField(
        required=False, label="PDF file", help_text="For a PDF lesson (checked by its content).",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )  # fmt: skip

    class Meta:
        model = Lesson
        fields = ["title", "kind", "body", "video_url", "position"]
        labels = {"body": "Lesson text", "video_url": "Video link", "position": "Order"}
        help_texts = {
            "body": "For a text lesson. Blank lines separate paragraphs; '# ' starts a heading, '- ' a list "
            "item, **words** are bold.",
            "video_url": "For a video: its https:// link.",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False


class QuestionForm(forms.Form):
    text = forms.CharField(max_length=500, label="Question")
    choices = forms.CharField(
        label="Answers",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One answer a line; start each right answer with '*' (one or more).",
        max_length=3000,
    )

    @classmethod
    def for_question(cls, question: Question) -> QuestionForm:
        lines = [("* " if choice.is_correct else "") + choice.text for choice in question.choices.all()]
        return cls(initial={"text": question.text, "choices": "\n".join(lines)})


class ProtocolForm(forms.ModelForm):
    class Meta:
        model = Protocol
        fields = ["title", "is_active"]
        labels = {"is_active": "In use (untick to retire)"}


class PublishForm(forms.Form):
    body = forms.CharField(
        label="Text of the new version",
        widget=forms.Textarea(attrs={"rows": 14}),
        max_length=50_000,
        help_text="Publishing asks everyone it is assigned to to acknowledge it again.",
    )


ROLE_CHOICES = [("", "Named people (below)"), *Role.choices]
RECURRENCE_CHOICES = [(0, "Once"), (12, "Every year"), (6, "Every six months"), (24, "Every two years")]


class AssignmentForm(forms.ModelForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False, label="Role")
    people = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("full_name"),
        required=False,
        label="Named people",
        help_text="Instead of a role.",
    )
    recurrence_months = forms.TypedChoiceField(
        choices=RECURRENCE_CHOICES, coerce=int, label="Repeats", initial=0
    )

    class Meta:
        model = Assignment
        fields = [
            "course", "protocol", "role", "people", "location", "due_days", "due_date", "recurrence_months",
            "on_first_sign_in", "is_active",
        ]  # fmt: skip
        labels = {
            "location": "Only at location",
            "due_days": "Due this many days after it is given",
            "due_date": "Or due on a fixed date",
            "on_first_sign_in": "Onboarding: give it to each new person at their first sign-in",
            "is_active": "Active (untick to withdraw open tasks)",
        }
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["protocol"].queryset = Protocol.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["location"].queryset = Location.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["location"].empty_label = "Every location"  # type: ignore[attr-defined]


class ExportForm(forms.Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.order_by("name"), required=False, empty_label="Every location"
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    course = forms.ModelChoiceField(
        queryset=Course.objects.order_by("title"), required=False, empty_label="Every course"
    )
    protocol = forms.ModelChoiceField(
        queryset=Protocol.objects.order_by("title"), required=False, empty_label="Every protocol"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start date is after the end date.")
        return data
