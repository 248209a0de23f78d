"""Fixtures shared by the HTTP tests: the usual callers' headers, and one plan with one action."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import plan_with_action


@pytest.fixture
def coordinator(users: Any) -> dict[str, str]:
    return users.headers("coordinator", "lscb")


@pytest.fixture
def health(users: Any) -> dict[str, str]:
    return users.headers("editor", "health")


@pytest.fixture
def ids(client: Any, coordinator: dict[str, str]) -> tuple[str, str, str]:
    """The plan, its recommendation and its action, from `plan_with_action`."""
    return plan_with_action(client, coordinator)


@pytest.fixture
def action_id(ids: tuple[str, str, str]) -> str:
    return ids[2]
