"""What a visit costs and what insurance made of it: charges, claims, adjudications and self-pay visits.

Money is integer cents with the ISO currency of `settings.CARELINE_CURRENCY`; the database refuses a negative
amount. The patient's balance is never stored: `careline.billing.queries.patient_balance` derives it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

# The largest amount one row may carry (a million in the currency's main unit): far beyond any visit, and far
# from any integer overflow when many rows are summed.
MAX_AMOUNT_CENTS = 100_000_000


def default_currency() -> str:
    """The clinic's currency (settings.CARELINE_CURRENCY), stored on every row that carries money."""
    return str(settings.CARELINE_CURRENCY)


def currency_field() -> models.CharField[str, str]:
    return models.CharField(max_length=3, default=default_currency, editable=False)


def non_negative(table: str, *fields: str) -> list[models.CheckConstraint]:
    """A CHECK that each of FIELDS is zero or more."""
    return [
        models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"{table}_{name}_not_negative")
        for name in fields
    ]


class Charge(models.Model):
    """One line of what a visit costs: a service code, UNITS of it at UNIT_AMOUNT_CENTS each."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="billing_charges")
    visit = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="billing_charges",
    )
    service_code = models.CharField(max_length=20)
    description = models.CharField(max_length=200)
    units = models.PositiveIntegerField(default=1)
    unit_amount_cents = models.BigIntegerField()
    amount_cents = models.BigIntegerField()
    currency = currency_field()
    service_date = models.DateField()
    # The practice-management system's id of the line (imports); unique when present, so an import is idempotent.
    external_id = models.CharField(max_length=100, blank=True, default="")
    voided = models.BooleanField(default=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_date", "id"]
        constraints = [
            *non_negative("billing_charge", "unit_amount_cents", "amount_cents"),
            models.CheckConstraint(condition=Q(units__gte=1), name="billing_charge_units_at_least_one"),
            models.CheckConstraint(
                condition=Q(amount_cents=F("units") * F("unit_amount_cents")),
                name="billing_charge_amount_is_units_times_unit_amount",
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="billing_charge_external_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["patient", "service_date"])]

    def __str__(self) -> str:
        return f"{self.service_code} × {self.units}"


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"


# A claim is final when the payer has decided it and no appeal is open: only then does its adjudication decide
# what the patient owes, and a statement may be issued.
FINAL_CLAIM_STATUSES = frozenset({ClaimStatus.PAID, ClaimStatus.DENIED})


class Claim(models.Model):
    """A visit's claim to one payer, and where the payer is with it."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="billing_claims")
    visit = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.PROTECT, related_name="billing_claims"
    )
    payer = models.CharField(max_length=120)
    member_id = models.CharField(max_length=60)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    submitted_at = models.DateTimeField()
    # The practice-management system's claim number (imports); unique when present, so a re-import finds it.
    external_id = models.CharField(max_length=100, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ClaimStatus.values), name="billing_claim_status_known"
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="billing_claim_external_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        """Paid or denied: the payer's answer stands (an appealed claim is not final)."""
        return self.status in FINAL_CLAIM_STATUSES


class Adjudication(models.Model):
    """What the payer decided for one charge of a claim.

    The charge's amount is split into what the payer allows and its adjustment (contractual, with a reason);
    the allowed amount into what the payer paid and what the patient owes (copay + coinsurance + deductible).
    """

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="adjudications")
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="adjudications")
    allowed_cents = models.BigIntegerField()
    paid_by_insurer_cents = models.BigIntegerField()
    adjustment_cents = models.BigIntegerField(default=0)
    adjustment_reason_code = models.CharField(max_length=10, blank=True, default="")
    adjustment_reason = models.CharField(max_length=200, blank=True, default="")
    copay_cents = models.BigIntegerField(default=0)
    coinsurance_cents = models.BigIntegerField(default=0)
    deductible_cents = models.BigIntegerField(default=0)
    currency = currency_field()
    adjudicated_at = models.DateTimeField()

    class Meta:
        ordering = ["charge_id", "id"]
        constraints = [
            *non_negative(
                "billing_adjudication",
                "allowed_cents",
                "paid_by_insurer_cents",
                "adjustment_cents",
                "copay_cents",
                "coinsurance_cents",
                "deductible_cents",
            ),
            models.CheckConstraint(
                condition=Q(
                    allowed_cents=F("paid_by_insurer_cents")
                    + F("copay_cents")
                    + F("coinsurance_cents")
                    + F("deductible_cents")
                ),
                name="billing_adjudication_allowed_is_paid_plus_patient_share",
            ),
            models.UniqueConstraint(fields=["claim", "charge"], name="billing_adjudication_one_per_charge"),
        ]

    def __str__(self) -> str:
        return f"Adjudication of charge {self.charge_id} on claim {self.claim_id}"

    @property
    def patient_responsibility_cents(self) -> int:
        """What the patient owes for the charge under this decision."""
        return self.copay_cents + self.coinsurance_cents + self.deductible_cents


class SelfPayVisit(models.Model):
    """An administrator's decision that a visit is not billed to insurance: its charges are the patient's."""

    visit = models.OneToOneField(
        "scheduling.Appointment", on_delete=models.PROTECT, related_name="billing_self_pay"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200, blank=True, default="")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Self-pay visit {self.visit_id}"
