"""Input of the billing import page and of voiding a charge."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile


class BillingImportUploadForm(forms.Form):
    """A practice-management CSV export, no larger than CARELINE_MAX_IMPORT_BYTES."""

    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="UTF-8 CSV with a header row; the columns are listed below.",
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.CARELINE_MAX_IMPORT_BYTES
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {max(limit // (1024 * 1024), 1)} MB. Split it into smaller files."
            )
        if not upload.size:
            raise forms.ValidationError("The file is empty.")
        return upload


class ChargeVoidForm(forms.Form):
    reason = forms.CharField(label="Reason for voiding", max_length=200)
