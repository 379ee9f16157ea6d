"""Forms of signing in to the portal and choosing what it shows."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from careline.core.phones import try_parse_phone


def contact_key(raw: str) -> tuple[str, str] | None:
    """("email", address) or ("phone", E.164) for what a person typed as their sign-in, or None."""
    text = raw.strip()
    if "@" in text:
        return ("email", text.lower())
    phone = try_parse_phone(text)
    return ("phone", phone) if phone else None


class PortalSignInForm(forms.Form):
    identifier = forms.CharField(
        label=_("Email or mobile number"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_identifier(self) -> tuple[str, str]:
        key = contact_key(self.cleaned_data["identifier"])
        if key is None:
            raise forms.ValidationError(_("Enter an email address or a mobile number."))
        return key


class PortalLanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
