"""The portal's message forms: a text and up to three files (PDF, JPEG or PNG, checked by content later)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from careline.portal.services.help import MAX_ATTACHMENTS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class PortalMessageForm(forms.Form):
    text = forms.CharField(
        label=_("Your message"),
        required=False,
        max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = MultipleFileField(
        label=_("Attach files (PDF, JPEG or PNG, up to 5 MB each)"),
        required=False,
    )

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(_("Attach at most %(count)s files.") % {"count": MAX_ATTACHMENTS})
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("text") or "").strip() and not data.get("attachments") and not self.errors:
            raise forms.ValidationError(_("Write a message first."))
        return data


class HelpChatForm(PortalMessageForm):
    text = forms.CharField(
        label=_("How can we help?"),
        required=False,
        max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
