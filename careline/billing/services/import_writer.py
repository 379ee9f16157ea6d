"""The billing import's writes: a checked plan applied through the billing services (each audits its row).

Called by `billing_import_apply` inside its transaction; a service's refusal becomes the record's error and
rolls the whole import back.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from careline.billing.models import Charge, Claim, ClaimStatus
from careline.billing.services.charges import (
    AdjudicationLine,
    charge_add,
    claim_adjudicate,
    claim_appeal,
    claim_submit,
)
from careline.billing.services.import_records import (
    AMOUNT_FIELDS,
    ImportRefused,
    Plan,
    Ref,
    RowError,
    noon_of,
)
from careline.core.actor import Actor


def import_plan_write(plan: Plan, actor: Actor) -> None:
    """Write PLAN's new charges and claims, then its claims' moves with their adjudications."""
    charges: dict[str, Charge] = {}
    for charge_record, patient, visit in plan.new_charges:
        charges[charge_record.external_id] = _service(
            charge_record.ref,
            lambda r=charge_record, p=patient, v=visit: charge_add(
                patient=p, visit=v, service_code=r.service_code, description=r.description, units=r.units,
                unit_amount_cents=r.unit_amount_cents, service_date=r.service_date, external_id=r.external_id,
                actor=actor,
            ),
        )  # fmt: skip
    claims: dict[str, Claim] = {}
    for claim_record, _patient, claim_visit in plan.new_claims:
        claims[claim_record.external_id] = _service(
            claim_record.ref,
            lambda r=claim_record, v=claim_visit: claim_submit(
                visit=v, payer=r.payer, member_id=r.member_id, submitted_at=noon_of(r.submitted_on),
                external_id=r.external_id, actor=actor,
            ),
        )  # fmt: skip
    for record, existing in plan.moves:
        claim = existing or claims[record.external_id]
        if record.status == ClaimStatus.APPEALED:
            _service(record.ref, lambda c=claim: claim_appeal(claim=c, actor=actor))
            continue
        lines = []
        for line in plan.adjudications.get(record.external_id, []):
            charge = charges.get(line.charge_id) or Charge.objects.get(external_id=line.charge_id)
            lines.append(
                AdjudicationLine(
                    charge=charge,
                    **{name: getattr(line, name) for name in AMOUNT_FIELDS},
                    adjustment_reason_code=line.adjustment_reason_code,
                    adjustment_reason=line.adjustment_reason,
                )
            )
        dates = [
            line.adjudicated_on
            for line in plan.adjudications.get(record.external_id, [])
            if line.adjudicated_on
        ]
        latest = max(dates) if dates else None
        _service(
            record.ref,
            lambda c=claim, s=record.status, ls=lines, d=latest: claim_adjudicate(
                claim=c, status=s, lines=ls, adjudicated_at=noon_of(d), actor=actor
            ),
        )


def _service(ref: Ref, call: Any) -> Any:
    """CALL's result; a service's refusal becomes the record's error (and rolls the import back)."""
    try:
        return call()
    except ValidationError as error:
        problems = (
            [
                RowError(ref, name, message)
                for name, messages in error.message_dict.items()
                for message in messages
            ]
            if hasattr(error, "error_dict")
            else [RowError(ref, "", message) for message in error.messages]
        )
        raise ImportRefused(problems) from None
