"""Forms of the portal's Profile: contact details, password, language, preferences, text consent."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from careline.core.phones import parse_phone
from careline.patients.models import Purpose

CURRENT_PASSWORD_HELP = _("For your safety, changes to how you sign in need your current password.")

# The channels a patient may choose per purpose in the portal, with the names patients read.
PREFERENCE_CHANNELS = [
    ("sms", _("Text message")),
    ("email", _("Email")),
    ("portal", _("Patient portal")),
    ("phone", _("Phone call")),
    ("mail", _("Mail")),
]
PURPOSE_LABELS = {
    Purpose.APPOINTMENTS: _("Appointments"),
    Purpose.CARE: _("Care follow-up"),
    Purpose.BILLING: _("Billing"),
    Purpose.GENERAL: _("General news from the clinic"),
}


def _current_password() -> forms.CharField:
    return forms.CharField(
        label=_("Current password"),
        max_length=256,
        strip=False,
        help_text=CURRENT_PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ContactForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    current_password = _current_password()

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        try:
            return parse_phone(raw)
        except ValidationError:
            raise ValidationError(_("Enter a mobile number, for example (312) 555-0123.")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "email" in data and "phone" in data and not data["email"] and not data["phone"]:
            raise ValidationError(_("Keep an email address or a mobile number to sign in with."))
        return data


class PasswordForm(forms.Form):
    current_password = _current_password()
    new_password = forms.CharField(
        label=_("New password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords are not the same."))
        return data


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from careline.portal.views.account import language_options

        self.fields["language"].choices = language_options()  # type: ignore[attr-defined]


class PreferencesForm(forms.Form):
    """One choice of channel per purpose."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for purpose, label in PURPOSE_LABELS.items():
            self.fields[str(purpose)] = forms.ChoiceField(label=label, choices=PREFERENCE_CHANNELS)


class ConsentForm(forms.Form):
    phone = forms.ChoiceField(label=_("Mobile number"))
    given = forms.TypedChoiceField(
        label=_("Text messages"),
        choices=[("yes", _("Yes, the clinic may text me")), ("no", _("No texts, please"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, numbers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].choices = numbers  # type: ignore[attr-defined]
