"""`accord status --plan PLAN [--as-at DATE] [--known-at INSTANT]`: a whole plan as it stood, as a terminal table."""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cli.plans import find_plan
from projections.rollups import summarise
from service.bootstrap import bootstrap
from service.settings import Settings

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 80, 120, 100
STATUS_WORDS = {
    "not_started": "not started",
    "in_progress": "in progress",
    "completed": "completed",
    "withdrawn": "withdrawn",
}

DESCRIPTION = """\
Print a plan as it stood on a date (valid time), as Accord knew it at an instant (knowledge time),
read from the time-travel view that the server or `accord worker` keeps up to date.
`--as-at D --known-at D` shows the plan exactly as Accord showed it on day D.

The table fits the terminal (COLUMNS), between 80 and 120 columns. Exit status: 0 when printed;
2 for a bad --plan, --as-at or --known-at, or a plan that was not known at --known-at.
"""
KNOWN_AT_HELP = (
    "consider only what had been recorded by then, honouring only the retractions recorded by then"
    " (default: now): an ISO 8601 instant with its offset, e.g. 2026-11-25T14:03:00+00:00 (a trailing Z means"
    " +00:00), or a date YYYY-MM-DD, meaning the END of that day in ACCORD_TIMEZONE (default Europe/London)"
)


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "status",
        help="print a plan as it stood on a date, as known at an instant (a table for the terminal)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--plan",
        required=True,
        metavar="PLAN",
        help="the plan's number in `accord plans list`, the start of its title, or its id",
    )
    parser.add_argument(
        "--as-at",
        type=day,
        default=None,
        metavar="DATE",
        help="a day, YYYY-MM-DD: apply the updates that had taken effect by then (default: today in ACCORD_TIMEZONE)",
    )
    parser.add_argument("--known-at", type=known_at, default=None, metavar="INSTANT", help=KNOWN_AT_HELP)
    parser.set_defaults(func=run)


# Arguments: argparse reports a bad one on stderr, with the usage, and exits 2.


def day(text: str) -> date:
    try:
        if DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}")


def known_at(text: str) -> datetime | date:
    """An aware instant, or a bare date (resolved to the end of that day once the time zone is known)."""
    if DAY.fullmatch(text):
        return day(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an instant such as 2026-11-25T14:03:00+00:00, or a date YYYY-MM-DD, not {text!r}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"an instant needs its offset, e.g. {moment.isoformat()}+00:00, not {text!r}")
    return moment


# Running.


def run(args: argparse.Namespace, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)
    system = bootstrap(settings, in_process=False)
    try:
        as_at: date = args.as_at or system.app.today()
        known = args.known_at or system.app.clock()
        if not isinstance(known, datetime):
            known = system.app.end_of_day(known)
        view = system.projections.view("temporal")
        plan = find_plan(system.current.list_plans(system.app.today()), args.plan)
        status = view.plan_status(plan, as_at, known)
        if status is None:
            known_now = view.plan_status(plan, as_at, system.app.clock()) is not None
            print(
                f"accord: plan {plan} was not yet recorded at {shown_instant(known, zone)}"
                if known_now
                else f"accord: no plan {plan}",
                file=sys.stderr,
            )
            return 2
        lag = (system.app.recorder.max_notification_id() or 0) - system.projections.position(view)
    finally:
        system.close()
    if lag > 0:
        print(
            f"accord: note: the time-travel view is {lag} event(s) behind the store (is `accord worker` running?);"
            " the latest changes may be missing",
            file=sys.stderr,
        )
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    print("\n".join(render(status, as_at, known, zone, width())))
    return 0


def width() -> int:
    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


# Rendering: plain text, standard library only.


def shorten(text: str | None, room: int) -> str:
    """One line of at most `room` characters, ending in an ellipsis when cut."""
    flat = " ".join((text or "").split())
    if len(flat) <= room:
        return flat
    return flat[: max(room - 1, 0)].rstrip() + "…"


def shown_instant(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def render(status: dict[str, Any], as_at: date, known: datetime, zone: ZoneInfo, columns: int) -> list[str]:
    actions = [a for r in status["recommendations"] for a in r["actions"]]
    number_w = max([len("No."), *(len(a["number"]) for a in actions)])
    lead_w = max([len("Lead"), *(len(a["lead_agency"]) for a in actions)])
    cells = [
        ("No.", number_w),
        ("Lead", lead_w),
        ("Status", 11),
        ("RAG", 5),
        ("Due", 10),
        ("", 7),  # OVERDUE
        ("Updated", 10),
    ]
    indent = "  "
    fixed = len(indent) + sum(w + 1 for _, w in cells)
    text_room = max(columns - fixed, 10)

    def row(values: list[str], text: str) -> str:
        line = indent + " ".join(v.ljust(w) for v, (_, w) in zip(values, cells, strict=True)) + " " + text
        return line.rstrip()

    lines = [
        shorten(status.get("title") or f"Plan {status['plan_id']}", columns),
        shorten(f"As at {as_at.isoformat()}, as known at {shown_instant(known, zone)} ({zone.key})", columns),
        "",
        row([name for name, _ in cells], shorten("Last update", text_room)),
        "=" * columns,
    ]
    for recommendation in status["recommendations"]:
        label = f"Recommendation {recommendation['number']}: "
        lines.append(label + shorten(recommendation["text"], columns - len(label)))
        if not recommendation["actions"]:
            lines.append(indent + "(no actions as at this date)")
        for action in recommendation["actions"]:
            last = action["last_update"]
            lines.append(
                row(
                    [
                        action["number"],
                        action["lead_agency"],
                        STATUS_WORDS.get(action["status"], action["status"]),
                        action["rag"] or "-",
                        action["due_date"] or "-",
                        "OVERDUE" if action["overdue"] else "",
                        str(last["effective_date"]) if last else "-",
                    ],
                    shorten(last["text"], text_room) if last else "",
                )
            )
        lines.append("")
    lines += ["-" * columns, *summary_lines(actions, as_at)]
    return lines


def summary_lines(actions: list[dict[str, Any]], as_at: date) -> list[str]:
    """The same summary as the API's plan status (projections.rollups.summarise), in words."""
    summary = summarise(({**a, "n": 1} for a in actions), as_at)
    total = summary["total"]
    by_status = ", ".join(f"{STATUS_WORDS.get(s, s)} {n}" for s, n in summary["by_status"].items())
    unrated = total - sum(summary["by_rag"].values())
    by_rag = ", ".join(f"{r} {n}" for r, n in summary["by_rag"].items()) + f", unrated {unrated}"
    return [
        f"Summary as at {as_at.isoformat()}: {total} action{'s' if total != 1 else ''}, {summary['overdue']} overdue",
        f"  by status: {by_status}",
        f"  by RAG:    {by_rag}",
    ]
