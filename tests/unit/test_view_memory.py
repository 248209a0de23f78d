"""What a view keeps in memory between batches: at most MAX_FACTS facts, least recently used actions let go first."""

from __future__ import annotations

import pytest

from projections import actions
from projections.actions import trim


def test_least_recently_used_actions_with_facts_go_first_and_actions_without_facts_stay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(actions, "MAX_FACTS", 3)
    # Oldest first: two actions raised and not yet reported on, then three with facts.
    memory = {"raised 1": 0, "raised 2": 0, "old": 3, "middle": 2, "recent": 2}
    trim(memory, lambda facts: facts)
    assert list(memory) == ["raised 1", "raised 2", "recent"]  # 2 facts held; the two oldest with facts went.


def test_nothing_goes_while_the_facts_held_are_within_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "MAX_FACTS", 7)
    memory = {"a": 3, "b": 4}
    trim(memory, lambda facts: facts)
    assert memory == {"a": 3, "b": 4}
