"""Forms of getting into the portal: an invitation's identity check and set-up, one-time codes, a new password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from careline.portal.forms.account import contact_key
from careline.portal.models import PortalAccount


class ContactForm(forms.Form):
    """An email or mobile number, as ("email", address) or ("phone", E.164)."""

    identifier = forms.CharField(
        label=_("Email or mobile number"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )

    def clean_identifier(self) -> tuple[str, str]:
        key = contact_key(self.cleaned_data["identifier"])
        if key is None:
            raise forms.ValidationError(_("Enter an email address or a mobile number."))
        return key


class IdentityForm(forms.Form):
    """The invited patient proves who they are."""

    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )


class NewPasswordForm(forms.Form):
    """A new password, typed twice and checked by the project's password validators."""

    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, account: PortalAccount | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        elif first:
            try:
                # The similarity check reads the email and names off any object, a portal account too.
                validate_password(first, user=self.account)  # type: ignore[arg-type]
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class InvitationSetupForm(NewPasswordForm):
    """The invited patient chooses how they sign in (email or mobile, prefilled) and a password."""

    identifier = forms.CharField(
        label=_("Email or mobile number to sign in with"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )

    field_order = ["identifier", "password1", "password2"]

    def clean_identifier(self) -> tuple[str, str]:
        key = contact_key(self.cleaned_data["identifier"])
        if key is None:
            raise forms.ValidationError(_("Enter an email address or a mobile number."))
        return key

    def clean(self) -> dict[str, Any]:
        identifier = (self.cleaned_data or {}).get("identifier")
        if identifier and self.account is not None:
            kind, value = identifier
            self.account.email = value if kind == "email" else None
            self.account.phone = value if kind == "phone" else None
        return super().clean()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none"}
        ),
    )
    trust_device = forms.BooleanField(
        label=_("Trust this device: do not ask for a code here next time"), required=False
    )


class SignInSettingsForm(forms.Form):
    always_ask_code = forms.BooleanField(
        label=_("Always ask for a code when I sign in, even on a trusted device"), required=False
    )
