"""`accord report PLAN --as-at DATE [--known-at INSTANT] [--since DATE] --format FMT -o FILE`: the committee
report, written to a file, with its audit head printed so that it can be checked later."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from cli.plans import find_plan
from cli.status import day, known_at
from domain.principals import Principal
from reports import FORMATS, render
from service.access_log import AccessLog
from service.bootstrap import bootstrap
from service.cycles import since_previous_meeting
from service.reports import committee_report
from service.settings import Settings

DESCRIPTION = """\
Write a plan's committee report: its position as at a date (valid time), as Accord knew it at an instant
(knowledge time), with each action's latest update, revised timescales and their reasons, and, with --since,
what changed since the last report. Every page or sheet ends with the proof: as at, as known at, generated at,
by whom, and the audit head its data came from; `accord audit verify --expect <head>` checks it later.

  --known-at INSTANT  an ISO 8601 instant with its offset, or a date YYYY-MM-DD meaning the END of that day in
                      ACCORD_TIMEZONE: `--as-at D --known-at D` is the report as Accord could have made it on D.

The read is kept in the access log (what `report`, the plan, the dates, --purpose), like the API's.
Exit status: 0 when written; 2 for bad arguments or a plan not known at --known-at.
"""
SHOWN_FROM = 50  # Plans with at least this many actions show a progress bar (on a terminal).


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="write a plan's committee report (html, pdf, docx, xlsx, csv) as at a date, as known at an instant",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "plan", metavar="PLAN", help="the plan's number in `accord plans list`, the start of its title, or its id"
    )
    parser.add_argument("--as-at", type=day, required=True, metavar="DATE", help="the day to report on, YYYY-MM-DD")
    parser.add_argument("--known-at", type=known_at, default=None, metavar="INSTANT", help="default: now")
    parser.add_argument(
        "--since",
        type=day,
        default=None,
        metavar="DATE",
        help="mark what changed since this day (default: the plan's previous meeting before --as-at)",
    )
    parser.add_argument("--format", choices=list(FORMATS), required=True, help="the file's format")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="where to write it")
    parser.add_argument("--by", default=None, metavar="NAME", help="who generates it (default: your login name)")
    parser.add_argument("--agency", default="command line", help="the agency shown beside --by")
    parser.add_argument("--purpose", default=None, help="why: kept with the read in the access log")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    system = bootstrap(settings, in_process=False)
    reader = Principal(f"cli:{getpass.getuser()}", args.by or getpass.getuser(), args.agency, "coordinator")
    bar = Bar(args.format) if sys.stderr.isatty() else None
    try:
        plan = find_plan(system.current.list_plans(system.app.today()), args.plan)
        known: datetime = args.known_at or system.app.clock()
        if not isinstance(known, datetime):
            known = system.app.end_of_day(known)
        report = committee_report(
            system,
            plan,
            as_at=args.as_at,
            known_at=known,
            since=args.since,
            default_since=since_previous_meeting(system.projections),
            reader=reader,
            progress=bar,
        )
        AccessLog(system.app.factory, clock=system.app.clock).record(
            reader.as_actor(),
            "plan_report",
            plan_id=plan,
            purpose=args.purpose,
            params={"as_at": args.as_at.isoformat(), "known_at": known.isoformat(), "format": args.format}
            | ({"since": report.since.isoformat()} if report.since else {}),
        )
    finally:
        system.close()
    if bar is not None:
        bar.rendering()
    args.output.write_bytes(render(report, args.format))
    if bar is not None:
        bar.finish()
    print(f"wrote {args.output} ({args.format}); audit head {report.proof.head}", file=sys.stderr)
    return 0


class Bar:
    """Reading each action, then rendering: a one-line bar on stderr, for plans big enough to wait for."""

    def __init__(self, fmt: str, width: int = 30) -> None:
        self.fmt, self.width, self.started, self.total = fmt, width, time.monotonic(), 0

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        if total < SHOWN_FROM:
            return
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        print(f"\rreading: [{bar}] {done}/{total} actions", end="", file=sys.stderr)

    def rendering(self) -> None:
        if self.total >= SHOWN_FROM:
            print(
                f"\rreading: [{'#' * self.width}] {self.total}/{self.total} actions; rendering {self.fmt}...",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def finish(self) -> None:
        if self.total >= SHOWN_FROM:
            print(f" done in {time.monotonic() - self.started:.1f}s", file=sys.stderr)
