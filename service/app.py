"""The Accord application: one use-case method per command, library errors turned into domain errors."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic

from domain.action import Action
from domain.errors import Conflict, NotFound, RuleViolated, StaleVersion
from domain.plan import Plan
from domain.principals import ROLES, Principal
from domain.user import User
from service.tokens import TOKEN_SECONDS, Principals

SAVE_ATTEMPTS = 3
USERS_PAGE = 500  # Registrations read per page when listing users.
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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        token_seconds: float = TOKEN_SECONDS,
    ) -> None:
        super().__init__(env)
        self.agencies = agencies
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        self.after_save: Callable[[int], None] = lambda position: None
        self.principals = Principals(token_seconds)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def today(self) -> date:
        """The day as partners in this deployment's time zone see it."""
        return self.clock().astimezone(self.zone).date()

    # Plans and recommendations.

    def create_plan(self, actor: Principal, *, title: str, source: str, owner_agency: str) -> Written:
        actor.check_may_manage_plans()
        self.check_agency(owner_agency, "owner_agency")
        plan = Plan(title=title, source=source, owner_agency=owner_agency, actor=actor.as_actor())
        return self._save(plan, plan.id)

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

    # Actions and their updates.

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

    def retract_update(self, actor: Principal, action_id: UUID, update_id: UUID, *, reason: str) -> Written:
        """The update is treated as entered in error from now on; it stays in history, marked."""
        action = self.get(Action, action_id)
        action.retract_update(actor=actor, update_id=str(update_id), reason=reason)
        return self._save(action, update_id)

    # Users.

    def add_user(self, *, name: str, agency: str, role: str) -> tuple[UUID, str]:
        """Register a user; return its id and its bearer token, which is shown only this once."""
        self.check_agency(agency, "agency")
        if role not in ROLES:
            raise RuleViolated(f"role must be one of {', '.join(ROLES)}", field="role")
        token = "acc_" + secrets.token_urlsafe(32)
        user = User(token_hash=hash_token(token), name=name, agency=agency, role=role)
        self._save(user, user.id)
        return user.id, token

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
        """Every registered user, in order of registration: id, name, agency, role, revoked; never a token."""
        users, position = [], 0
        while page := self.recorder.select_notifications(
            position, USERS_PAGE, topics=[REGISTERED], inclusive_of_start=False
        ):
            for notification in page:
                user: User = self.get(User, UUID(str(notification.originator_id)))
                who = {"name": user.name, "agency": user.agency, "role": user.role}
                users.append({"id": user.id, **who, "revoked": user.revoked})
            position = page[-1].id
        return users

    def revoke_user(self, user_id: UUID) -> None:
        """From now on the user's token is refused (401); revoking a revoked user changes nothing."""
        user = self.get(User, user_id)
        if not user.revoked:
            user.revoke()
            self._save(user, user.id)
        self.principals.forget(str(user_id))

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
