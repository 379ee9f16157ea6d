"""Input of the referral pages: the directory's search and provider form, referring, changing a state."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings

from careline.core.phones import parse_phone
from careline.core.text import has_control_characters
from careline.referrals.models import OutsideProvider, ProviderKind, ReferralState

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class DirectorySearchForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, max_length=100, help_text="Name, specialty, service or plan"
    )
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any kind"), *ProviderKind.choices])
    language = forms.ChoiceField(label="Speaks", required=False)
    takes_texts = forms.BooleanField(label="Takes texts", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [("", "Any language"), *settings.LANGUAGES]


class ProviderForm(forms.ModelForm):
    website = forms.URLField(label="Website", required=False, max_length=200, assume_scheme="https")
    languages_text = forms.CharField(
        label="Languages spoken",
        required=False,
        max_length=100,
        help_text="Language codes separated by commas, e.g. en, es, vi",
    )

    class Meta:
        model = OutsideProvider
        fields = [
            "name",
            "kind",
            "specialty",
            "services",
            "phone",
            "fax",
            "email",
            "address",
            "insurance_accepted",
            "takes_texts",
            "takes_fax_referrals",
            "takes_email_referrals",
            "active",
        ]
        widgets = {
            "services": forms.Textarea(attrs={"rows": 3}),
            "insurance_accepted": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["languages_text"].initial = ", ".join(self.instance.languages or [])
            self.fields["website"].initial = self.instance.website
        # The website after the address, where the model has it.
        self.order_fields([*self.Meta.fields[:8], "website"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("name", "specialty", "services", "address", "insurance_accepted"):
            if has_control_characters(str(cleaned.get(name) or ""), allowed="\r\n"):
                self.add_error(name, "Remove the control characters.")
        return cleaned

    def _phone(self, name: str) -> str:
        raw = str(self.cleaned_data.get(name) or "").strip()
        return parse_phone(raw) if raw else ""

    def clean_phone(self) -> str:
        return self._phone("phone")

    def clean_fax(self) -> str:
        return self._phone("fax")

    def clean_languages_text(self) -> list[str]:
        raw = str(self.cleaned_data.get("languages_text") or "")
        codes = [code.strip().lower() for code in raw.split(",") if code.strip()]
        bad = [code for code in codes if not LANGUAGE_CODE.match(code)]
        if bad:
            raise forms.ValidationError(
                f"“{bad[0][:10]}” is not a language code (two or three letters, e.g. es)."
            )
        return list(dict.fromkeys(codes))

    def values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in self.Meta.fields}
        values["languages"] = self.cleaned_data["languages_text"]
        values["website"] = self.cleaned_data["website"]
        return values


class ReferForm(forms.Form):
    provider = forms.ModelChoiceField(
        label="Refer to", queryset=OutsideProvider.objects.filter(active=True).order_by("name", "id")
    )
    reason = forms.CharField(
        label="Reason (staff only)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the staff app: never texted, emailed or shown in the portal.",
    )
    consent_given = forms.BooleanField(
        label="The patient agrees to this referral and to us sharing their details with the provider",
        required=True,
        error_messages={"required": "Record the patient's consent to the referral first."},
    )

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if has_control_characters(reason, allowed="\r\n"):
            raise forms.ValidationError("Remove the control characters.")
        return reason


class StateForm(forms.Form):
    state = forms.ChoiceField(label="New state", choices=ReferralState.choices)

    def __init__(self, *args: Any, choices: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if choices is not None:
            state = self.fields["state"]
            assert isinstance(state, forms.ChoiceField)
            state.choices = choices  # the states this referral may move to from where it is

    note = forms.CharField(
        label="Note (no clinical detail)",
        required=False,
        max_length=300,
        help_text="e.g. appointment on 12 May",
    )

    def clean_note(self) -> str:
        note = str(self.cleaned_data.get("note") or "").strip()
        if has_control_characters(note):
            raise forms.ValidationError("Remove the control characters.")
        return note
