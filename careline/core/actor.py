"""Who acts: a staff member, a patient, a caregiver for a patient, an API client or the system.

Services take one `actor: Actor` instead of a user, a change source and a request; views build it once with
`Actor.from_request(request)`, Celery tasks and sweeps with `Actor.system("<job>")`. The audit trail records
its kind, so a caregiver's read is told apart from a staff member's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from careline.core.models import ActorKind, AuditChannel
from careline.core.network import client_ip

if TYPE_CHECKING:
    from careline.accounts.models import ApiToken, User

# The audit trail keeps this much of a user agent (its column's size).
USER_AGENT_CHARS = 300
# A request id comes from the client or a proxy; anything longer is not one worth keeping.
REQUEST_ID_CHARS = 64
REQUEST_ID_HEADERS = ("HTTP_X_REQUEST_ID", "HTTP_X_CORRELATION_ID")
# The job of an action nobody in particular made (an anonymous request, no user given): its audit entry
# keeps the label its caller gives, even none, as it always has.
UNNAMED_JOB = "system"


@dataclass(frozen=True)
class RequestFacts:
    """What the audit trail keeps of the request an action came in on."""

    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def of(cls, request: HttpRequest | None) -> RequestFacts:
        """The facts of REQUEST (none without one)."""
        if request is None:
            return cls()
        request_id = next((request.META[h] for h in REQUEST_ID_HEADERS if request.META.get(h)), "")
        return cls(
            ip_address=client_ip(request),
            user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_CHARS],
            request_id=str(request_id).strip()[:REQUEST_ID_CHARS],
        )


@dataclass(frozen=True)
class Actor:
    """One who acts, and the request facts the audit trail needs. Build it with the constructors below."""

    kind: str
    user: User | None = None
    patient_id: int | None = None
    caregiver_id: int | None = None
    api_token_id: int | None = None
    api_token_name: str = ""
    job: str = ""
    channel: str = AuditChannel.WEB
    request: RequestFacts = field(default_factory=RequestFacts)

    def __post_init__(self) -> None:
        # Each kind names the one who acts; an Actor without it would write an entry nobody can trace.
        kind = ActorKind(self.kind)
        missing = {
            ActorKind.STAFF: self.user is None,
            ActorKind.API_CLIENT: self.user is None or self.api_token_id is None,
            ActorKind.PATIENT: self.patient_id is None,
            ActorKind.CAREGIVER: self.caregiver_id is None or self.patient_id is None,
            ActorKind.SYSTEM: not self.job,
        }[kind]
        if missing:
            raise ValueError(f"an actor of kind {kind.value!r} needs who it is")

    # Constructors -------------------------------------------------------------------------------------------

    @classmethod
    def staff(cls, user: User, *, request: HttpRequest | None = None) -> Actor:
        """A signed-in staff member, acting in REQUEST if given."""
        return cls(ActorKind.STAFF, user=user, channel=_channel(request), request=RequestFacts.of(request))

    @classmethod
    def api(cls, token: ApiToken, *, request: HttpRequest | None = None) -> Actor:
        """A client of /api/v1 using TOKEN; it acts with the token's staff user's permissions."""
        return cls(
            ActorKind.API_CLIENT,
            user=token.user,
            api_token_id=token.pk,
            api_token_name=token.name,
            channel=AuditChannel.API,
            request=RequestFacts.of(request),
        )

    @classmethod
    def patient(cls, patient_id: int, *, request: HttpRequest | None = None) -> Actor:
        """The patient PATIENT_ID, acting for themselves."""
        return cls(
            ActorKind.PATIENT,
            patient_id=patient_id,
            channel=_channel(request),
            request=RequestFacts.of(request),
        )

    @classmethod
    def caregiver(cls, caregiver_id: int, *, patient_id: int, request: HttpRequest | None = None) -> Actor:
        """The caregiver CAREGIVER_ID acting on behalf of the patient PATIENT_ID."""
        return cls(
            ActorKind.CAREGIVER,
            caregiver_id=caregiver_id,
            patient_id=patient_id,
            channel=_channel(request),
            request=RequestFacts.of(request),
        )

    @classmethod
    def system(cls, job: str, *, channel: str = AuditChannel.SYSTEM) -> Actor:
        """Careline itself, running JOB (a sweep, a task, a management command)."""
        return cls(ActorKind.SYSTEM, job=job, channel=channel)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        """Who is behind REQUEST: the API token it carries, or its signed-in staff user.

        Raises ValueError for an anonymous request: views that act require a signed-in user first.
        """
        token: ApiToken | None = getattr(request, "api_token", None)
        if token is not None:
            return cls.api(token, request=request)
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            raise ValueError("an anonymous request has no actor")
        return cls.staff(user, request=request)

    # Reads ----------------------------------------------------------------------------------------------------

    @property
    def user_id(self) -> int | None:
        """The staff user's id (staff and API clients), else None."""
        return self.user.pk if self.user is not None else None

    @property
    def staff_user(self) -> User:
        """The staff user acting (directly or through an API token); ValueError for anyone else.

        For writes that only staff make and that name their author in the row (a care note, a rule).
        """
        if self.user is None:
            raise ValueError(f"an actor of kind {self.kind!r} is not a staff member")
        return self.user

    @property
    def label(self) -> str:
        """How the audit trail names the actor at the time (an email, a job; ids for patients)."""
        if self.user is not None:
            return str(self.user.email)
        if self.kind == ActorKind.CAREGIVER:
            return f"caregiver #{self.caregiver_id} for patient #{self.patient_id}"
        if self.kind == ActorKind.PATIENT:
            return f"patient #{self.patient_id}"
        return self.job

    def with_channel(self, channel: str) -> Actor:
        """This actor on CHANNEL (e.g. a management command acting as a staff member)."""
        return replace(self, channel=channel)


def _channel(request: HttpRequest | None) -> str:
    if request is None:
        return AuditChannel.SYSTEM
    return str(getattr(request, "audit_channel", AuditChannel.WEB))


__all__ = ["UNNAMED_JOB", "Actor", "ActorKind", "RequestFacts"]
