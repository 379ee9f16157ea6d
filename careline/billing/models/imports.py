"""Imports of a practice-management export: the CSV uploads staff preview then apply, and the API's idempotency keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BillingImport(models.Model):
    """A CSV of charges, claims and adjudications: checked on upload (preview), applied on confirmation.

    The file's text is kept only between the preview and the confirmation; applying (or finding errors in) it
    clears the text, so no export lingers in the database.
    """

    class State(models.TextChoices):
        CHECKED = "checked", "Checked, waiting for confirmation"
        INVALID = "invalid", "Errors found, nothing imported"
        APPLYING = "applying", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed, nothing imported"

    original_name = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CHECKED)
    data = models.TextField(blank=True, default="")
    total_rows = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="counts by kind and outcome")
    errors = models.JSONField(default=list, blank=True, help_text="[{row, column, message}]")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["checked", "invalid", "applying", "done", "failed"]),
                name="billing_import_state_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in {self.State.INVALID, self.State.DONE, self.State.FAILED}


class BillingIdempotencyKey(models.Model):
    """An `Idempotency-Key` a client sent with an import through the API, the request's hash and the answer.

    Only an import that was applied is kept (one with row errors changed nothing, and may be fixed and sent
    again under the same key). The same key with the same body replays the answer; with another body it is
    refused. Keys are per staff user (the token's), so two clients cannot collide.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="billing_idempotency_key_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"Idempotency key {self.key[:20]}"
