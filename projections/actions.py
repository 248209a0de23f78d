"""Views that show actions fold each event with the domain's own code, keeping the actions they touch in memory.

Each event is applied to the `Action` aggregate by the event's own `apply` (the library's `mutate`), so a view
can never disagree with the aggregate about what an event means; the aggregate folds forward in O(1)
per event in the usual case (domain/action.py `note`). The facts are stored once, in the event store:
an action not in memory is loaded from it as it stood just before the event (the library's repository,
at that version). An action in memory is as its version says, whoever applied what since: when another
consumer (the other worker) has moved the view on, the events it applied are read once and bring the
actions held forward (`Runner.bring_forward`); one that does not line up with the next event is loaded
again. A failed batch empties the memory (its actions may be ahead of what was committed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.action import Action
from projections.view import Load, SqlView

DATE_FIELDS = ("due_date", "start_date")
MAX_FACTS = 40_000  # Facts (about 1 KB each) a view keeps in memory; beyond, the least recently used actions go.


def encode_state(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def decode_state(values: dict[str, Any]) -> dict[str, Any]:
    return {k: date.fromisoformat(v) if k in DATE_FIELDS and v else v for k, v in values.items()}


class IdTexts(dict[int, str]):
    """Ids as text, each made once: `str` of a UUID takes about a microsecond, and a batch meets the same few
    ids event after event. Keyed by the id's number (hashing a UUID is a call to Python code)."""

    def of(self, uuid: UUID) -> str:
        text = self.get(uuid.int)
        if text is None:
            text = self[uuid.int] = str(uuid)
        return text


@dataclass
class Step:
    """One event applied to its action: the action after it, and its state (a copy) before it."""

    action: Action
    before: dict[str, Any]
    new_fact: bool  # The event began a fact (an update's or a lead assignment's first event).


class ActionView(SqlView):
    """A view that folds actions: it keeps the ones it touches in memory between batches."""

    advances = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actions = Actions(self.load)

    def forget(self) -> None:
        super().forget()
        self.actions.forget()

    def advance(self, events: Sequence[Any]) -> None:
        self.actions.advance(events)

    def apply_batch(self, events: Sequence[Any], c: Any) -> None:
        self.actions.trim()
        super().apply_batch(events, c)


class Actions:
    """The actions a view has folded, by the number of their id (`id_number`), each as its version says."""

    def __init__(self, load: Load | None) -> None:
        self.load = load
        self.by_id: dict[int, Action] = {}

    def raised(self, e: Action.Raised) -> Action:
        action = e.mutate(None)
        assert action is not None
        self.by_id[id_number(e)] = action
        return action

    def get(self, e: Action.Event) -> Action:
        """The action as it stood just before event `e`: from memory, else from the event store."""
        action = self.by_id.pop(k := id_number(e), None)  # Put back last: the dict's order is least recent first.
        if action is not None:
            self.by_id[k] = action
        if action is None or action.version != e.originator_version - 1:
            if self.load is None:
                raise LookupError(f"action {e.originator_id} is not in memory and there is no store to load it from")
            action = self.by_id[k] = self.load(e.originator_id, e.originator_version - 1)
        return action

    def step(self, e: Action.Event) -> Step:
        action = self.get(e)
        before = dict(action.state)
        new_fact = getattr(e, "update_id", None) not in action.facts
        e.mutate(action)
        return Step(action, before, new_fact)

    def advance(self, events: Sequence[Any]) -> None:
        """Bring the actions held forward by events that another consumer applied; one that does not line up
        (it was loaded at another version meanwhile) is let go."""
        for e in events:
            action = self.by_id.get(id_number(e))
            if action is None:
                continue
            if action.version == e.originator_version - 1:
                e.mutate(action)
            else:
                del self.by_id[id_number(e)]

    def trim(self) -> None:
        """Between batches: keep at most MAX_FACTS facts in memory, dropping the least recently used actions."""
        trim(self.by_id, lambda action: len(action.facts))

    def forget(self) -> None:
        self.by_id.clear()


def id_number(e: Any) -> int:
    """The number of an event's aggregate id: how views key what they hold by aggregate. A UUID's hash and equality
    are Python code, run at every lookup (each event decoded brings its own UUID object); an int's are not."""
    return e.originator_id.int  # type: ignore[no-any-return]


def trim(memory: dict[Any, Any], facts: Callable[[Any], int]) -> None:
    """Let the least recently used actions go until at most MAX_FACTS facts are held. An action with no facts
    yet stays: it costs about its Raised event to keep, a query to load again, and (raised, then reported on)
    it is often about to be updated, as when a plan's actions are all raised before their first updates."""
    total = sum(facts(value) for value in memory.values())
    for key in list(memory):
        if total <= MAX_FACTS:
            return
        if held := facts(memory[key]):
            total -= held
            del memory[key]
