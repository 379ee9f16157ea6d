"""Standing guarantors: the person (another patient, a parent for a child) who receives and pays a patient's
statements, from a start date, with its history kept (a link is ended, never deleted or rewritten)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class GuarantorLink(models.Model):
    """GUARANTOR pays PATIENT's bills from STARTS_ON until ENDS_ON (open while ENDS_ON is empty)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="billing_guarantor_links"
    )
    guarantor = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="billing_dependant_links"
    )
    relationship = models.CharField(max_length=60, blank=True, default="")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(ends_on__isnull=True), name="billing_guarantor_one_open"
            ),
            models.CheckConstraint(
                condition=~Q(patient=models.F("guarantor")), name="billing_guarantor_not_self"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="billing_guarantor_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["guarantor", "ends_on"], name="billing_guarantor_dependants")]

    def __str__(self) -> str:
        return f"Guarantor link {self.pk}"
