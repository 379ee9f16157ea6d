"""Input for sign-in, two-factor, profile, staff administration and API tokens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password

from careline.accounts.models import TimeFormat, User
from careline.accounts.queries import active_staff
from careline.core.permissions import Role
from careline.core.phones import parse_phone
from careline.locations.models import Location


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        strip=False, max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def clean_email(self) -> str:
        # One spelling per account, so lockout counts "Ada@x" and "ada@x" as the same person.
        return str(self.cleaned_data["email"]).strip().lower()


class TokenForm(forms.Form):
    """A six-digit code from an authenticator app."""

    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        value = str(self.cleaned_data["token"]).replace(" ", "")
        if not value.isdigit() or len(value) != 6:
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return value


def _role_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="A person gets everything each of their roles allows.",
    )


def _location_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Location.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Front-desk staff see only the patients of their locations.",
    )


class _PasswordPairMixin(forms.Form):
    password1 = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def _check_password_pair(self, draft_user: User) -> None:
        first = self.cleaned_data.get("password1") or ""
        second = self.cleaned_data.get("password2") or ""
        if not first and not second:
            return
        if first != second:
            self.add_error("password2", "The two passwords differ.")
            return
        try:
            validate_password(first, user=draft_user)
        except forms.ValidationError as error:
            self.add_error("password1", error)


def _mobile_field() -> forms.CharField:
    return forms.CharField(
        label="Mobile number",
        max_length=40,
        required=False,
        help_text="Where on-call pages are texted; include the area code. Never shown to patients.",
    )


def mobile_cleaned(raw: str) -> str:
    """RAW as E.164 ("" when blank); a clear ValidationError when it is not a phone number."""
    raw = (raw or "").strip()
    return parse_phone(raw) if raw else ""


class StaffCreateForm(_PasswordPairMixin):
    email = forms.EmailField(max_length=254)
    full_name = forms.CharField(max_length=150)
    title = forms.CharField(max_length=60, required=False, help_text="e.g. RN, MD, Front desk lead")
    mobile = _mobile_field()
    roles = _role_field()
    locations = _location_field()

    field_order = ["email", "full_name", "title", "mobile", "roles", "locations", "password1", "password2"]

    def clean_mobile(self) -> str:
        return mobile_cleaned(self.cleaned_data.get("mobile", ""))

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Someone already has this email address.")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        draft = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
        self._check_password_pair(draft)
        return cleaned


class StaffEditForm(_PasswordPairMixin):
    email = forms.EmailField(max_length=254)
    full_name = forms.CharField(max_length=150)
    title = forms.CharField(max_length=60, required=False)
    mobile = _mobile_field()
    roles = _role_field()
    locations = _location_field()
    is_active = forms.BooleanField(
        label="Active", required=False, help_text="Deactivated staff cannot sign in or use API tokens."
    )

    field_order = [
        "email", "full_name", "title", "mobile", "roles", "locations", "is_active", "password1", "password2"
    ]  # fmt: skip

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        kwargs.setdefault(
            "initial",
            {
                "email": user.email,
                "full_name": user.full_name,
                "title": user.title,
                "mobile": user.mobile,
                "roles": sorted(user.role_codes),
                "locations": list(user.locations.all()),
                "is_active": user.is_active,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["password1"].required = False
        self.fields["password1"].label = "New password (optional)"
        self.fields["password2"].required = False
        self.fields["password2"].label = "New password again"

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError("Someone else already has this email address.")
        return email

    def clean_mobile(self) -> str:
        return mobile_cleaned(self.cleaned_data.get("mobile", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_password_pair(self.user)
        return cleaned


TOKEN_LIFETIMES = [
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
    ("", "Never (until revoked)"),
]


class ApiTokenCreateForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Acts as", help_text="The token can do what this person may do."
    )
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “EHR sync”.")
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=TOKEN_LIFETIMES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
        help_text="After this the token stops working; create a new one before then.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_staff()  # type: ignore[attr-defined]


class PreferencesForm(forms.Form):
    """The profile page's display preferences."""

    time_format = forms.ChoiceField(
        label="Show times as",
        choices=TimeFormat.choices,
        widget=forms.RadioSelect,
        help_text="Used for the times in the inbox (messages, notes, visits).",
    )
