"""`accord plans list`, and finding a plan by what a person remembers of it: its number there, its title, its id."""

from __future__ import annotations

import argparse
from typing import Any
from uuid import UUID

from domain.errors import NotFound, RuleViolated
from service.bootstrap import bootstrap
from service.settings import Settings


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("plans", help="list the plans, numbered as `accord status --plan N` takes them")
    sub = parser.add_subparsers(dest="plans_command", required=True, metavar="PLANS_COMMAND")
    sub.add_parser("list", help="every plan, oldest first: number, id, owner agency and title").set_defaults(
        func=list_plans
    )


def list_plans(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings, in_process=False)
    try:
        plans = system.current.list_plans(system.app.today())
    finally:
        system.close()
    print(f"{'no.':<5}{'id':<38}{'owner':<10}title")
    for number, plan in enumerate(plans, start=1):
        print(f"{number:<5}{plan['id']:<38}{plan['owner_agency']:<10}{plan['title']}")


def find_plan(plans: list[dict[str, Any]], given: str) -> str:
    """The id of the plan `given` names: its id, its number in `accord plans list`, or the start of its title
    (case and surrounding spaces ignored). An id is taken as it is, whether or not the list has it yet."""
    text = given.strip()
    try:
        return str(UUID(text))
    except ValueError:
        pass
    if text.isdigit():
        if 1 <= int(text) <= len(plans):
            return str(plans[int(text) - 1]["id"])
        raise NotFound(f"no plan number {text}: `accord plans list` shows {len(plans)}")
    found = [plan for plan in plans if text and plan["title"].casefold().startswith(text.casefold())]
    if not found:
        raise NotFound(f"no plan's title starts with {text!r}: see `accord plans list`")
    if len(found) > 1:
        numbers = ", ".join(str(plans.index(plan) + 1) for plan in found)
        raise RuleViolated(f"{len(found)} plans' titles start with {text!r} (numbers {numbers}): say which")
    return str(found[0]["id"])
