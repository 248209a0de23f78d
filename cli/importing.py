"""`accord import FILE`: a plan file (xlsx, csv or docx) in as a new plan, all or nothing, with a progress bar.

It acts as the coordinator whose token is given (`--token`, or ACCORD_TOKEN), as the API does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from service.bootstrap import bootstrap
from service.importing import ImportOptions, ImportResult
from service.settings import Settings

TOKEN_VARIABLE = "ACCORD_TOKEN"


def json_object(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected a JSON object, e.g. \'{"Lead": "lead_person"}\'') from None
    if not isinstance(found, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return found


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("import", help="import a plan from an xlsx, csv or docx file (all or nothing)")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--dry-run", action="store_true", help="check and show the mapping and errors; write nothing")
    parser.add_argument("--mapping", type=json_object, default=None, help="JSON: column heading to field (or null)")
    parser.add_argument("--lead-agency-by-person", type=json_object, default={}, help="JSON: lead person to agency")
    parser.add_argument("--default-lead-agency", default=None, metavar="AGENCY")
    parser.add_argument("--title", default=None)
    parser.add_argument("--source", default=None)
    parser.add_argument("--owner-agency", default=None, metavar="AGENCY")
    parser.add_argument("--start-date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD")
    parser.add_argument("--token", default=None, help=f"a coordinator's token (default: ${TOKEN_VARIABLE})")
    parser.set_defaults(func=import_command)


class Bar:
    """One line on stderr per stage: reading, checking rows, saving."""

    def __init__(self, width: int = 30) -> None:
        self.width, self.stage, self.started = width, "", time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage and self.stage:
            print(file=sys.stderr)
        self.stage = stage
        filled = int(self.width * done / total) if total else self.width
        print(
            f"\r{stage:>8}: [{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,}", end="", file=sys.stderr
        )

    def finish(self) -> None:
        print(f"\n{'done':>8}: {time.monotonic() - self.started:.1f}s", file=sys.stderr)


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        print(f"accord: give a coordinator's token with --token or {TOKEN_VARIABLE}", file=sys.stderr)
        return 2
    try:
        data = args.file.read_bytes()
    except OSError as error:
        print(f"accord: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    options = ImportOptions(
        mapping=args.mapping,
        lead_agency_by_person=args.lead_agency_by_person,
        default_lead_agency=args.default_lead_agency,
        title=args.title,
        source=args.source,
        owner_agency=args.owner_agency,
        start_date=args.start_date,
    )
    system = bootstrap(settings)
    try:
        actor = system.app.authenticate(token)
        if actor is None:
            print("accord: the token is unknown or revoked", file=sys.stderr)
            return 2
        bar = Bar()
        result = system.app.import_plan(
            actor, data, filename=args.file.name, options=options, dry_run=args.dry_run, progress=bar
        )
        bar.finish()
    finally:
        system.close()
    return report(result, args.dry_run)


def report(result: ImportResult, dry_run: bool) -> int:
    print("mapping:")
    for header, field in result.mapping.items():
        print(f"  {header!r} -> {field or '(not imported)'}")
    counts = f"{result.recommendations} recommendations, {result.actions} actions, {result.updates} updates"
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.errors:
        for error in result.errors:
            where = ", ".join(
                f"{name} {error[key]}"
                for key, name in (("table", ""), ("row", "row"), ("column", "column"))
                if error.get(key) is not None
            ).strip()
            print(f"error: {where + ': ' if where else ''}{error['message']}", file=sys.stderr)
        print(f"not imported: {len(result.errors)} errors in {counts}; nothing was written")
        return 1
    if dry_run:
        print(f"dry run: would import {counts}; nothing was written")
        return 0
    print(f"imported {counts} as plan {result.plan_id}")
    return 0
