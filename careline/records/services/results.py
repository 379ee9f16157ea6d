"""Lab results: entry and amendment (with history), the release plan, releases, and the notice to the patient.

Release rules (decided for issue 10): a result flagged low, high or critical is always held until a
clinician releases it. A normal result follows its test's `ResultReleaseRule`: released at once (also the
default for a test without a rule), after `delay_hours` (a due time the release sweep picks up), or held for
a clinician like an abnormal one. A clinician may release any result at any time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import say, text_language
from careline.patients.models import ContactPreference, Patient, Purpose
from careline.records.models import (
    LabResult,
    ReleasePolicy,
    ResultFlag,
    ResultReleaseRule,
    ResultStatus,
    flag_from_range,
)
from careline.records.services.entries import record_add, record_amend
from careline.records.texts import RESULT_READY, RESULT_READY_SUBJECT

logger = logging.getLogger(__name__)

SWEEP_JOB = "result-release-sweep"
SWEEP_BATCH = 500
PORTAL_RESULTS_PATH = "/portal/results/"


def value_as_number(value: str) -> Decimal | None:
    """VALUE as a number ("5.6", "-1", "1,200"), or None for text such as "Negative" or "<5"."""
    text = (value or "").strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < Decimal("1e10") else None


def result_values_derived(values: Mapping[str, Any]) -> dict[str, Any]:
    """VALUES with the numeric value and the flag filled in: the flag from the range unless one is chosen.

    A chosen flag (`flag`) overrides the computed one; a value that is not a number within a range needs a
    chosen flag (ValidationError otherwise).
    """
    derived = dict(values)
    derived["value"] = (derived.get("value") or "").strip()
    number = value_as_number(derived["value"])
    derived["value_number"] = number
    low, high = derived.get("reference_low"), derived.get("reference_high")
    if low is not None and high is not None and low > high:
        raise ValidationError({"reference_high": "The upper limit is below the lower one."})
    computed = flag_from_range(number, low, high)
    chosen = derived.get("flag") or ""
    if chosen:
        derived["flag_overridden"] = computed is None or chosen != computed
    elif computed is not None:
        derived["flag"], derived["flag_overridden"] = computed, False
    else:
        raise ValidationError(
            {"flag": "Choose a flag: it is computed only for a number with a reference range."}
        )
    collected, resulted = derived.get("collected_at"), derived.get("resulted_at")
    if collected and resulted and resulted < collected:
        raise ValidationError({"resulted_at": "The result time is before the collection time."})
    return derived


def release_due_for(result: LabResult, *, now: datetime) -> tuple[bool, datetime | None]:
    """Whether RESULT is released now, and otherwise when the sweep should (None: held for a clinician)."""
    if result.status == ResultStatus.ENTERED_IN_ERROR or result.flag != ResultFlag.NORMAL:
        return False, None
    rule = ResultReleaseRule.objects.filter(test_code=result.test_code).first()
    if rule is None or rule.policy == ReleasePolicy.IMMEDIATE:
        return True, None
    if rule.policy == ReleasePolicy.DELAYED:
        if rule.delay_hours == 0:
            return True, None
        return False, now + timedelta(hours=rule.delay_hours)
    return False, None


def _apply_release_plan(result: LabResult, *, now: datetime, actor: Actor) -> None:
    """Release RESULT now or set its due time, as its rule says (an unreleased result only)."""
    if result.released_at is not None:
        return
    release_now, due = release_due_for(result, now=now)
    if release_now:
        _release([result.pk], patient_id=result.patient_id, released_by=None, now=now, actor=actor)
        result.released_at = now
    else:
        LabResult.objects.filter(pk=result.pk).update(release_due_at=due)
    result.release_due_at = None if release_now else due


def result_add(*, patient: Patient, values: Mapping[str, Any], actor: Actor) -> LabResult:
    """Enter a result for PATIENT; released at once, later or held as the release rules say (audited)."""
    derived = result_values_derived(values)
    with transaction.atomic():
        result = record_add(model=LabResult, patient=patient, values=derived, actor=actor)
        _apply_release_plan(result, now=result.created_at, actor=actor)
    return result


def result_amend(*, result: LabResult, values: Mapping[str, Any], reason: str, actor: Actor) -> LabResult:
    """Correct RESULT (the earlier versions stay in its history); an unreleased one is planned again."""
    derived = result_values_derived(values)
    derived.setdefault("flag_overridden", False)
    with transaction.atomic():
        amended = record_amend(entry=result, values=derived, reason=reason, actor=actor)
        if amended.released_at is None:
            _apply_release_plan(amended, now=amended.updated_at, actor=actor)
    return amended


def _release(
    ids: Iterable[int], *, patient_id: int, released_by: Any, now: datetime, actor: Actor
) -> list[int]:
    """Release the unreleased results among IDS of one patient (a conditional update per row, so a
    result is released, audited and announced once whoever races for it); the notice goes after commit."""
    released = []
    for pk in ids:
        claimed = LabResult.objects.filter(
            pk=pk, patient_id=patient_id, released_at__isnull=True, status=ResultStatus.FINAL
        ).update(released_at=now, released_by=released_by, release_due_at=None)
        if claimed:
            released.append(pk)
    if released:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="records.labresult",
            object_id=released[0] if len(released) == 1 else "",
            patient_id=patient_id,
            detail=f"released {len(released)} result(s) to the patient: ids {','.join(map(str, released))}",
        )
        # Robust: a notice that fails (no channel, a provider's error) is logged; the release stands.
        transaction.on_commit(
            lambda: results_ready_notify(patient_id=patient_id, result_ids=released), robust=True
        )
    return released


def result_release(*, result: LabResult, actor: Actor) -> bool:
    """Release RESULT to the patient now (a clinician's release); False when it already was (audited)."""
    if result.status == ResultStatus.ENTERED_IN_ERROR:
        raise ValidationError("A result entered in error is never released.")
    with transaction.atomic():
        released = _release(
            [result.pk],
            patient_id=result.patient_id,
            released_by=actor.staff_user,
            now=timezone.now(),
            actor=actor,
        )
    return bool(released)


def results_release_normal(*, patient: Patient, actor: Actor) -> int:
    """Release every unreleased normal result of PATIENT at once (one notice); how many were released."""
    user = actor.staff_user
    ids = list(
        LabResult.objects.filter(
            patient=patient, released_at__isnull=True, status=ResultStatus.FINAL, flag=ResultFlag.NORMAL
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        released = _release(ids, patient_id=patient.pk, released_by=user, now=timezone.now(), actor=actor)
    return len(released)


def results_release_due(*, limit: int = SWEEP_BATCH) -> int:
    """Release the results whose rule's delay has passed (beat runs this every CARELINE_SWEEP_SECONDS)."""
    now = timezone.now()
    due = list(
        LabResult.objects.filter(
            released_at__isnull=True, release_due_at__isnull=False, release_due_at__lte=now
        )
        .order_by("release_due_at", "pk")
        .values_list("pk", "patient_id")[:limit]
    )
    by_patient: dict[int, list[int]] = defaultdict(list)
    for pk, patient_id in due:
        by_patient[patient_id].append(pk)
    actor = Actor.system(SWEEP_JOB)
    count = 0
    for patient_id, ids in by_patient.items():
        with transaction.atomic():
            count += len(_release(ids, patient_id=patient_id, released_by=None, now=now, actor=actor))
    return count


def _notice_channel(patient: Patient) -> Any:
    """The channel of the patient's preference for care messages (email when chosen and known, else text)."""
    from careline.messaging.services.channels import channel_default

    preference = (
        ContactPreference.objects.filter(patient=patient, purpose=Purpose.CARE)
        .values_list("channel", flat=True)
        .first()
    )
    if preference == "email" and patient.email:
        return channel_default("email") or channel_default("sms")
    return channel_default("sms")


def results_ready_notify(*, patient_id: int, result_ids: list[int]) -> None:
    """Tell the patient that new results are ready, with the portal's link: never a test's name or value.

    Sent through `message_send` with the care purpose, so consent, opt-outs and quiet hours apply; keyed on
    the first result released, so a repeated call sends nothing twice.
    """
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.template_values import patient_values
    from careline.messaging.templating import TemplateKind, template_render

    patient = Patient.objects.select_related("primary_location").get(pk=patient_id)
    channel = _notice_channel(patient)
    if channel is None:
        logger.warning("No channel to tell patient %s of a released result", patient_id)
        return
    language = text_language(patient.language)
    values = patient_values(patient=patient, location=None)
    values["link"] = settings.PUBLIC_BASE_URL + PORTAL_RESULTS_PATH
    body = template_render(say(RESULT_READY, language), values, kind=TemplateKind.ANNOUNCEMENT)
    extra: dict[str, Any] = {}
    if "email" in channel.type.capabilities:
        extra["subject"] = say(RESULT_READY_SUBJECT, language)
    try:
        message_send(
            body=body,
            patient=patient,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.CARE,
            idempotency_key=f"result-ready:{min(result_ids)}",
            **extra,
        )
    except MessageRefused:
        logger.warning("Result notice for patient %s refused", patient_id)


def release_rule_save(
    *, rule: ResultReleaseRule | None, values: Mapping[str, Any], actor: Actor
) -> ResultReleaseRule:
    """Create or change the release rule of a test (audited); it applies to results entered from now on."""
    user = actor.staff_user
    rule = rule or ResultReleaseRule(updated_by=user)
    rule.test_code = str(values["test_code"]).strip().upper()
    rule.policy = values["policy"]
    rule.delay_hours = int(values.get("delay_hours") or 0) if rule.policy == ReleasePolicy.DELAYED else 0
    rule.updated_by = user
    rule.updated_at = timezone.now()
    rule.full_clean()
    with transaction.atomic():
        created = rule.pk is None
        rule.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=rule,
            detail=f"result release rule {rule.test_code}: {rule.policy}",
        )
    return rule
