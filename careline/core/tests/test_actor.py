"""One type for who acts; the audit trail records its kind and the ids that name it."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory

from careline.accounts.services import api_token_create
from careline.core.actor import USER_AGENT_CHARS, Actor
from careline.core.audit import audit_patient_access, audit_record
from careline.core.audit_chain import audit_chain_verify
from careline.core.models import ActorKind, AuditAction, AuditChannel, AuditEntry
from careline.testing.audit import audit_guards_lifted


def _request(**meta: str) -> Any:
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.8")
    request.META.update(meta)
    return request


# --- the type ------------------------------------------------------------------------------------------


def test_system_actor_names_its_job():
    actor = Actor.system("reminder-sweep")
    assert (actor.kind, actor.job, actor.label, actor.user_id) == (
        "system",
        "reminder-sweep",
        "reminder-sweep",
        None,
    )
    assert actor.channel == AuditChannel.SYSTEM


@pytest.mark.parametrize(
    "make",
    [
        lambda: Actor(ActorKind.STAFF),
        lambda: Actor(ActorKind.API_CLIENT),
        lambda: Actor(ActorKind.PATIENT),
        lambda: Actor(ActorKind.CAREGIVER, caregiver_id=3),
        lambda: Actor(ActorKind.SYSTEM),
        lambda: Actor("visitor", job="x"),
    ],
)
def test_an_actor_that_does_not_say_who_it_is_is_refused(make):
    with pytest.raises(ValueError, match=r"kind|ActorKind"):
        make()


def test_an_actor_is_immutable():
    actor = Actor.system("reminder-sweep")
    with pytest.raises(FrozenInstanceError):
        actor.job = "other"


def test_request_facts_are_kept_short(settings):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 0
    request = _request(HTTP_USER_AGENT="x" * 1000, HTTP_X_REQUEST_ID=" req-" + "9" * 100)
    actor = Actor.patient(7, request=request)
    assert actor.request.ip_address == "192.0.2.8"
    assert len(actor.request.user_agent) == USER_AGENT_CHARS
    assert actor.request.request_id == ("req-" + "9" * 100)[:64]
    assert (actor.kind, actor.patient_id, actor.label) == ("patient", 7, "patient #7")


@pytest.mark.django_db
def test_from_request_is_the_signed_in_staff_member(personas):
    request = _request()
    request.user = personas.front_a
    actor = Actor.from_request(request)
    assert (actor.kind, actor.user, actor.channel) == ("staff", personas.front_a, AuditChannel.WEB)


@pytest.mark.django_db
def test_from_request_is_the_api_token_it_carries(personas):
    token, _ = api_token_create(user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin))
    request = _request()
    request.user = personas.front_a
    # What ApiTokenAuth sets on an API request.
    request.api_token = token
    request.audit_channel = AuditChannel.API
    actor = Actor.from_request(request)
    assert (actor.kind, actor.user, actor.api_token_id) == ("api_client", personas.front_a, token.pk)
    assert (actor.api_token_name, actor.channel) == ("EHR sync", AuditChannel.API)


def test_an_anonymous_request_has_no_actor():
    request = _request()
    request.user = AnonymousUser()
    with pytest.raises(ValueError, match="anonymous"):
        Actor.from_request(request)


# --- the audit trail -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_kind_of_actor_is_recorded(personas):
    token, _ = api_token_create(user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin))
    caregiver = personas.pat_caregiver
    actors = {
        "staff": Actor.staff(personas.front_a),
        "api_client": Actor.api(token),
        "patient": Actor.patient(personas.pat.pk),
        "caregiver": Actor.caregiver(caregiver.pk, patient_id=personas.pat.pk),
        "system": Actor.system("reminder-sweep"),
    }
    for actor in actors.values():
        audit_patient_access(actor=actor, action=AuditAction.VIEW, patient_id=personas.pat.pk, detail="test")
    rows = {
        row["actor_kind"]: row
        for row in AuditEntry.objects.filter(detail="test").values(
            "actor_kind", "actor_id", "actor_label", "api_token_id", "caregiver_id", "on_behalf_of_id"
        )
    }
    assert set(rows) == set(actors)
    assert rows["staff"]["actor_id"] == personas.front_a.pk
    assert rows["api_client"]["actor_id"] == personas.front_a.pk
    assert rows["api_client"]["api_token_id"] == token.pk
    assert rows["patient"]["on_behalf_of_id"] == personas.pat.pk
    assert rows["caregiver"]["caregiver_id"] == caregiver.pk
    assert rows["caregiver"]["on_behalf_of_id"] == personas.pat.pk
    assert rows["caregiver"]["actor_id"] is None
    assert rows["system"]["actor_label"] == "reminder-sweep"
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_a_request_without_an_actor_still_records_its_request(settings):
    settings.CARELINE_TRUSTED_PROXY_COUNT = 0
    request = _request(HTTP_USER_AGENT="agent")
    request.user = AnonymousUser()
    entry = audit_record(request=request, action=AuditAction.LOGIN_FAILED, actor_label="who@example.test")
    assert (entry.actor_kind, entry.actor_label, entry.ip_address, entry.user_agent) == (
        "system",
        "who@example.test",
        "192.0.2.8",
        "agent",
    )
    assert entry.channel == AuditChannel.WEB


@pytest.mark.django_db
def test_a_changed_actor_kind_breaks_the_chain(personas):
    audit_record(actor=Actor.staff(personas.front_a), action=AuditAction.VIEW, patient_id=personas.pat.pk)
    entry = audit_record(
        actor=Actor.patient(personas.pat.pk), action=AuditAction.VIEW, patient_id=personas.pat.pk
    )
    assert audit_chain_verify().intact
    with audit_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET actor_kind = 'staff' WHERE id = %s", [entry.pk])
    report = audit_chain_verify()
    assert report.first_break is not None
    assert report.first_break.entry_id == entry.pk
