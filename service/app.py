"""The Accord application: one use-case method per command, library errors turned into domain errors.

Longer than most modules (about 500 lines) because it is the whole use-case boundary: every command the API,
the pages, the CLI and the import can make is a method here, beside the load-save-retry plumbing they share.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic

from domain.action import CONTRIBUTOR_FIELDS, UPDATE_FIELDS, Action
from domain.clock import real_time, stamping_with
from domain.errors import Conflict, NotFound, NotPermitted, RuleViolated, StaleVersion
from domain.plan import Plan
from domain.principals import ROLES, Principal
from domain.user import User
from service.credentials import Credentials, check_password
from service.importing import Importer, ImportOptions, ImportResult, Progress
from service.tokens import TOKEN_SECONDS, Principals

SAVE_ATTEMPTS = 3
USERS_PAGE = 500  # Registrations read per page when listing users.
EMAIL_MAX = 254  # RFC 5321's longest forward path, less its angle brackets.
REGISTERED = get_topic(User.Registered)  # type: ignore[attr-defined]  # Made by @event("Registered").


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Written:
    """What a write returns: the new resource's id, its aggregate's version, and the store position."""

    id: UUID
    version: int
    position: int


P = ParamSpec("P")
R = TypeVar("R")


def use_case(method: Callable[Concatenate[Accord, P], R]) -> Callable[Concatenate[Accord, P], R]:
    """The events a use case records are stamped by the application's clock, the one that says what day it is."""

    @functools.wraps(method)
    def stamped(self: Accord, *args: P.args, **kwargs: P.kwargs) -> R:
        with stamping_with(self.clock):
            return method(self, *args, **kwargs)

    return stamped


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accord(Application[UUID]):
    """Plans, recommendations, actions and the updates partner agencies post on them."""

    name = "Accord"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        agencies: tuple[str, ...] = (),
        timezone: str = "Europe/London",
        clock: Callable[[], datetime] = real_time,
        token_seconds: float = TOKEN_SECONDS,
    ) -> None:
        super().__init__(env)
        self.agencies = agencies
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        self.after_save: Callable[[int], None] = lambda position: None
        self._credentials: Credentials | None = None
        self.principals = Principals(token_seconds)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def today(self) -> date:
        """The day as partners in this deployment's time zone see it."""
        return self.clock().astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        """The last instant of `day` in this deployment's time zone: what was known by the end of that day."""
        return datetime.combine(day, time.max, tzinfo=self.zone)

    # Plans and recommendations.

    @use_case
    def create_plan(self, actor: Principal, *, title: str, source: str, owner_agency: str) -> Written:
        actor.check_may_manage_plans()
        self.check_agency(owner_agency, "owner_agency")
        plan = Plan(title=title, source=source, owner_agency=owner_agency, actor=actor.as_actor())
        return self._save(plan, plan.id)

    @use_case
    def add_recommendation(
        self, actor: Principal, plan_id: UUID, *, recommendation_id: UUID | None = None, **fields: Any
    ) -> Written:
        actor.check_may_manage_plans()
        recommendation_id = recommendation_id or uuid4()
        plan = self.get(Plan, plan_id)
        if recommendation_id in plan.recommendation_ids:  # A retry whose first attempt was saved: write nothing.
            position = self.recorder.max_notification_id() or 0
            return Written(id=recommendation_id, version=plan.version, position=position)
        plan.add_recommendation(actor=actor, recommendation_id=recommendation_id, **fields)
        return self._save(plan, recommendation_id)

    @use_case
    def schedule_meeting(  # noqa: PLR0913
        self,
        actor: Principal,
        plan_id: UUID,
        *,
        meeting_date: date,
        title: str,
        updates_due: date,
        meeting_id: UUID | None = None,
    ) -> Written:
        """A committee or board meeting that will receive the plan's position; partners' updates are due by
        `updates_due`. `meeting_id` (derived from an Idempotency-Key) makes a saved retry write nothing."""
        actor.check_may_manage_plans()
        meeting_id = meeting_id or uuid4()
        plan = self.get(Plan, plan_id)
        if meeting_id in plan.meeting_ids:
            return Written(id=meeting_id, version=plan.version, position=self.recorder.max_notification_id() or 0)
        plan.schedule_meeting(
            actor=actor, meeting_id=meeting_id, meeting_date=meeting_date, title=title, updates_due=updates_due
        )
        return self._save(plan, meeting_id)

    # Actions and their updates.

    @use_case
    def raise_action(  # noqa: PLR0913
        self,
        actor: Principal,
        plan_id: UUID,
        *,
        recommendation_id: UUID,
        lead_agency: str,
        contributing_agencies: list[str],
        effective_date: date | None = None,
        **fields: Any,
    ) -> Written:
        actor.check_may_manage_plans()
        self.check_agency(lead_agency, "lead_agency")
        self.check_agencies(contributing_agencies, "contributing_agencies")
        self.get(Plan, plan_id).check_has_recommendation(recommendation_id)
        effective_date = effective_date or self.today()
        Action.check_not_after(effective_date, self.today())
        action = Action(
            plan_id=plan_id,
            recommendation_id=recommendation_id,
            lead_agency=lead_agency,
            contributing_agencies=contributing_agencies,
            effective_date=effective_date,
            actor=actor.as_actor(),
            **fields,
        )
        return self._save(action, action.id)

    @use_case
    def post_update(
        self,
        actor: Principal,
        action_id: UUID,
        *,
        expected_version: int | None = None,
        effective_date: date | None = None,
        update_id: UUID | None = None,
        **fields: Any,
    ) -> Written:
        """Record a partner's update; without an expected version, a racing writer is retried over.

        `update_id` (derived from an Idempotency-Key) makes a retry whose first attempt was saved write nothing.
        """
        update_id, today = update_id or uuid4(), self.today()
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            action = self.get(Action, action_id)
            if str(update_id) in action.facts:
                return self.written_before(action, update_id)
            if expected_version is not None and action.version != expected_version:
                raise StaleVersion(f"the action is at version {action.version}, not {expected_version}")
            action.post_update(
                actor=actor, update_id=str(update_id), effective_date=effective_date or today, today=today, **fields
            )
            try:
                return self._save(action, update_id)
            except Conflict:
                if expected_version is not None:  # Someone saved between our load and our save: stale.
                    raise StaleVersion(f"the action moved past version {expected_version} while saving") from None
                if attempt == SAVE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @use_case
    def assign_lead(  # noqa: PLR0913
        self,
        actor: Principal,
        action_id: UUID,
        *,
        lead_agency: str,
        lead_person: str | None,
        contributing_agencies: list[str],
        effective_date: date | None = None,
        assignment_id: UUID | None = None,
    ) -> Written:
        self.check_agency(lead_agency, "lead_agency")
        self.check_agencies(contributing_agencies, "contributing_agencies")
        action, assignment_id = self.get(Action, action_id), assignment_id or uuid4()
        if str(assignment_id) in action.facts:
            return self.written_before(action, assignment_id)
        action.assign_lead(
            actor=actor,
            update_id=str(assignment_id),
            lead_agency=lead_agency,
            lead_person=lead_person,
            contributing_agencies=contributing_agencies,
            effective_date=effective_date or self.today(),
            today=self.today(),
        )
        return self._save(action, assignment_id)

    def updatable_fields(self, actor: Principal, action_id: UUID) -> tuple[str, ...]:
        """What `actor` may report on the action (every field, or a contributing agency's); NotPermitted if nothing.

        The update form asks before showing itself, by the same rule `post_update` applies.
        """
        action = self.get(Action, action_id)
        try:
            action.check_may_post(actor, set(UPDATE_FIELDS))
        except NotPermitted:
            action.check_may_post(actor, set(CONTRIBUTOR_FIELDS))
            return tuple(f for f in UPDATE_FIELDS if f in CONTRIBUTOR_FIELDS)
        return UPDATE_FIELDS

    @use_case
    def retract_update(self, actor: Principal, action_id: UUID, update_id: UUID, *, reason: str) -> Written:
        """The update is treated as entered in error from now on; it stays in history, marked."""
        action = self.get(Action, action_id)
        action.retract_update(actor=actor, update_id=str(update_id), reason=reason)
        return self._save(action, update_id)

    # Plan import.

    @use_case
    def import_plan(  # noqa: PLR0913
        self,
        actor: Principal,
        data: bytes,
        *,
        media_type: str | None = None,
        filename: str | None = None,
        options: ImportOptions | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Read a plan file and, unless a dry run or any row has an error, save the whole plan in one transaction."""
        actor.check_may_manage_plans()
        importer = Importer(self, actor, options or ImportOptions(), progress or (lambda stage, done, total: None))
        return importer.run(data, media_type, filename, dry_run)

    # Users.

    @use_case
    def add_user(self, *, name: str, agency: str, role: str, email: str | None = None) -> tuple[UUID, str]:
        """Register a user; return its id and its bearer token, which is shown only this once.

        `email` (optional, unique among users) is where reminders, digests and invitations go.
        """
        name = " ".join(name.split())
        if not name:
            raise RuleViolated("a user needs a name", field="name")
        self.check_agency(agency, "agency")
        if role not in ROLES:
            raise RuleViolated(f"role must be one of {', '.join(ROLES)}", field="role")
        email = self.check_email(email)
        token = "acc_" + secrets.token_urlsafe(32)
        user = User(token_hash=hash_token(token), name=name, agency=agency, role=role)
        user.change_email(email)
        self._save(user, user.id)
        return user.id, token

    def check_email(self, email: str | None, user_id: UUID | None = None) -> str | None:
        """An email address in its stored form (trimmed, lower case), or None; refused if another user has it."""
        if email is None or not email.strip():
            return None
        email = email.strip().lower()
        local, _, domain = email.partition("@")
        if not local or "." not in domain or len(email) > EMAIL_MAX or any(c.isspace() for c in email):
            raise RuleViolated("email must be an address such as name@example.org", field="email")
        if any(u["email"] == email and u["id"] != user_id for u in self.list_users()):
            raise RuleViolated("another user already has this email address", field="email")
        return email

    def authenticate(self, token: str) -> Principal | None:
        """The token's user, unless unknown or revoked (revocation reaches every process within TOKEN_SECONDS)."""
        token_hash = hash_token(token)

        def read() -> Principal | None:
            try:
                user: User = self.repository.get(User.create_id(token_hash), deepcopy_from_cache=False)
            except AggregateNotFoundError:
                return None
            if user.revoked:
                return None
            return Principal(user_id=str(user.id), name=user.name, agency=user.agency, role=user.role)

        return self.principals.get(token_hash, read)

    def list_users(self) -> list[dict[str, Any]]:
        """Every registered user, in order of registration: id, name, agency, role, email, digests, revoked; never a
        token."""
        users, position = [], 0
        while page := self.recorder.select_notifications(
            position, USERS_PAGE, topics=[REGISTERED], inclusive_of_start=False
        ):
            for notification in page:
                user: User = self.get(User, UUID(str(notification.originator_id)))
                who: dict[str, Any] = {"name": user.name, "agency": user.agency, "role": user.role}
                who |= {"email": user.email, "digests": user.digests}
                users.append({"id": user.id, **who, "revoked": user.revoked})
            position = page[-1].id
        return users

    @use_case
    def revoke_user(self, user_id: UUID) -> None:
        """From now on the user's token is refused (401); revoking a revoked user changes nothing."""
        user = self.get(User, user_id)
        if not user.revoked:
            user.revoke()
            self._save(user, user.id)
        self.principals.forget(str(user_id))

    @use_case
    def set_digests(self, user_id: UUID, on: bool) -> None:
        """Turn the user's weekly digest on or off (reminders before meetings are not optional)."""
        user = self.get(User, user_id)
        user.change_digests(on)
        if user.pending_events:
            self._save(user, user.id)

    # People signing in to the pages (bearer tokens stay as they are).

    @property
    def credentials(self) -> Credentials:
        """Password and invitation hashes, in a table of the event store's database (built on first use)."""
        if self._credentials is None:
            self._credentials = Credentials(self.factory, clock=self.clock)
        return self._credentials

    @use_case
    def invite_user(self, *, name: str, email: str, agency: str, role: str) -> tuple[UUID, str]:
        """Register a user with an email address; return its id and a one-time invitation token (72 hours)."""
        if not email or not email.strip():
            raise RuleViolated("an invitation needs an email address", field="email")
        user_id, _ = self.add_user(name=name, agency=agency, role=role, email=email)  # No bearer token shown.
        return user_id, self.reinvite(user_id)

    @use_case
    def reinvite(self, user_id: UUID) -> str:
        """A new invitation token for the user (earlier unused ones stay valid until they expire)."""
        user = self.get(User, user_id)
        token = secrets.token_urlsafe(32)
        self.credentials.add_invitation(str(user.id), token)
        user.invite()
        self._save(user, user.id)
        return token

    def invited(self, token: str) -> Principal | None:
        """Who an unused, unexpired, unrevoked invitation is for."""
        user_id = self.credentials.invited_user(token)
        return self.principal_of(user_id) if user_id else None

    def accept_invitation(self, token: str, password: str) -> Principal:
        """Set the invited user's password and spend the invitation; NotFound if it is spent, expired or revoked."""
        principal = self.invited(token)
        if principal is None:
            raise NotFound("this invitation link has been used, has expired or was withdrawn")
        check_password(password, email=self.get(User, UUID(principal.user_id)).email)
        if not self.credentials.use_invitation(token, principal.user_id, password):
            raise NotFound("this invitation link has been used, has expired or was withdrawn")
        self.note_password_set(UUID(principal.user_id))
        return principal

    def set_password(self, user_id: UUID, password: str) -> None:
        """Give a user a password directly (the demo's users); every session begun before ends."""
        user = self.get(User, user_id)
        check_password(password, email=user.email)
        self.credentials.set_password(str(user.id), password)
        self.note_password_set(user.id)

    @use_case
    def note_password_set(self, user_id: UUID) -> None:
        user = self.get(User, user_id)
        user.note_password_set()
        self._save(user, user.id)

    def sign_in(self, email: str, password: str) -> Principal | None:
        """The user with this email address and password, unless revoked; None otherwise, saying not which."""
        email = email.strip().lower()
        found = next((u for u in self.list_users() if email and u["email"] == email), None)
        if not self.credentials.verify(str(found["id"]) if found else None, password) or found is None:
            return None
        return self.principal_of(str(found["id"]))

    def principal_of(self, user_id: str, signed_in_at: datetime | None = None) -> Principal | None:
        """The user as a principal while it may act: not revoked and, given when a session began, not since
        signed out (or given a new password)."""
        try:
            user: User = self.get(User, UUID(user_id))
        except (NotFound, ValueError):
            return None
        if user.revoked:
            return None
        if signed_in_at is not None:
            after = self.credentials.sessions_after(str(user.id))
            if after is None or signed_in_at <= after:
                return None
        return Principal(user_id=str(user.id), name=user.name, agency=user.agency, role=user.role)

    def sign_out(self, user_id: str) -> None:
        """End every session of the user begun until now (cookies are signed, not stored: they cannot be deleted)."""
        self.credentials.end_sessions(user_id)

    def is_empty(self) -> bool:
        return not self.recorder.max_notification_id()

    # Rules that need this deployment's configuration.

    def check_agency(self, agency: str, field: str) -> None:
        if agency not in self.agencies:
            raise RuleViolated(f"unknown agency {agency!r}; known: {', '.join(self.agencies)}", field=field)

    def check_agencies(self, agencies: list[str], field: str) -> None:
        for agency in agencies:
            self.check_agency(agency, field)

    # Plumbing: load, save, translate errors.

    def get(self, cls: type[Any], aggregate_id: UUID) -> Any:
        """The aggregate, for a command: a copy of the cached one, so a command that fails corrupts nothing.

        The copy shares the action's facts with the cached aggregate: commands replace a fact, never change one,
        and copying every fact made the cost of each update grow with the action's history.
        """
        try:
            cached: Any = self.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            raise NotFound(f"no such {cls.__name__.lower()}") from None
        if not isinstance(cached, cls):
            raise NotFound(f"no such {cls.__name__.lower()}")
        facts = cached.facts.values() if isinstance(cached, Action) else ()
        return deepcopy(cached, {id(fact): fact for fact in facts})

    def written_before(self, action: Action, update_id: UUID) -> Written:
        """What a save of this update wrote, rebuilt for a retry whose first attempt got no response.

        Its version is that of the update's last event; its position is the store's head, at or after the
        save's own, so waiting for it (Accord-Min-Position) still reads the update.
        """
        events = self.events.get(action.id, gt=action.facts[str(update_id)].seq - 1)
        last = max(e.originator_version for e in events if getattr(e, "update_id", None) == str(update_id))
        return Written(id=update_id, version=last, position=self.recorder.max_notification_id() or 0)

    def _save(self, aggregate: Any, new_id: UUID) -> Written:
        try:
            recordings = self.save(aggregate)
        except IntegrityError:
            raise Conflict("another update to this action was saved first; retry") from None
        position = max(r.notification.id for r in recordings)
        self.after_save(position)
        return Written(id=new_id, version=aggregate.version, position=position)
