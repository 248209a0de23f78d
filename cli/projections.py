"""`accord projections status|verify|rebuild|skip|resume|prune`: operate the read models."""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from projections.runner import Progress
from service.bootstrap import System, bootstrap
from service.settings import Settings


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "projections", help="positions and lag of the read models; verify, rebuild, skip, prune"
    )
    sub = parser.add_subparsers(dest="projections_command", required=True, metavar="PROJECTIONS_COMMAND")
    sub.add_parser("status", help="position, lag (events and seconds), state and last error of each projection")
    verify = sub.add_parser("verify", help="compare every read model with a fresh fold of the event store")
    verify.add_argument("name", nargs="?", help="one projection (default: all)")
    rebuild = sub.add_parser("rebuild", help="rebuild into fresh tables and swap them in while the API serves the old")
    rebuild.add_argument("name", nargs="?", help="one projection (default: all)")
    skip = sub.add_parser("skip", help="the recorded way past a poison event: skip the event at POSITION")
    skip.add_argument("name", help="the stopped projection, as `accord projections status` names it")
    skip.add_argument("position", type=int, help="the poison event's position, as `status` shows it")
    skip.add_argument("--reason", required=True, help="why it is safe to skip (kept with the skip)")
    resume = sub.add_parser("resume", help="try a stopped projection again (after deploying a fix)")
    resume.add_argument("name", help="the stopped projection, as `accord projections status` names it")
    prune = sub.add_parser(
        "prune",
        help="drop the read models' old tables nobody reads: older generations, and shapes of older releases"
        " (once every process runs this release)",
    )
    prune.add_argument("name", nargs="?", help="one projection (default: all)")
    prune.add_argument("--dry-run", action="store_true", help="only list what would be dropped")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    system = bootstrap(settings, in_process=False)
    try:
        names = [args.name] if getattr(args, "name", None) else system.projections.names
        unknown = set(names) - set(system.projections.names)
        if unknown:
            print(
                f"accord: no projection {', '.join(sorted(unknown))}; known: {', '.join(system.projections.names)}",
                file=sys.stderr,
            )
            return 2
        return int(COMMANDS[args.projections_command](system, args, names) or 0)
    finally:
        system.close()


def status(system: System, args: argparse.Namespace, names: list[str]) -> int:
    rows = system.projections.status()
    print(f"{'projection':<16}{'state':<10}{'position':>10}{'lag':>8}{'lag (s)':>10}{'failures':>10}  error")
    for r in rows:
        lag_s = "?" if math.isnan(r["lag_seconds"]) else f"{r['lag_seconds']:.1f}"
        print(
            f"{r['name']:<16}{r['state']:<10}{r['position']:>10}{r['lag_events']:>8}{lag_s:>10}{r['failures']:>10}"
            f"  {r['error'] or ''}"
        )
        for skip in r["skips"]:
            print(f"{'':<16}skipped position {skip['position']} at {skip['at']}: {skip['reason']}")
    return 1 if any(r["state"] != "running" for r in rows) else 0


def verify(system: System, args: argparse.Namespace, names: list[str]) -> int:
    failed = False
    for name in names:
        differences = system.projections.verify(name)
        print(f"{name}: {'matches a fresh fold of the event store' if not differences else 'DIFFERS'}")
        for difference in differences:
            print(f"  {difference}")
        failed = failed or bool(differences)
    return 1 if failed else 0


def rebuild(system: System, args: argparse.Namespace, names: list[str]) -> None:
    for name in names:
        bar = ProgressBar(name)
        progress = Progress(report=bar)
        generation = system.projections.rebuild(name, progress)
        built = f", built by {progress.shares} processes at once" if progress.shares > 1 else ""
        bar.finish(f"swapped in generation {generation}{built}")


def skip(system: System, args: argparse.Namespace, names: list[str]) -> int:
    try:
        system.projections.skip(args.name, args.position, args.reason)
    except ValueError as error:
        print(f"accord: {error}", file=sys.stderr)
        return 2
    print(f"{args.name}: skipped position {args.position}; it will carry on from {args.position + 1}")
    return 0


def resume(system: System, args: argparse.Namespace, names: list[str]) -> None:
    system.projections.resume(args.name)
    print(f"{args.name}: running again from position {system.projections.position(system.projections.view(args.name))}")


def prune(system: System, args: argparse.Namespace, names: list[str]) -> None:
    for name in names:
        found = system.projections.leftovers(name) if args.dry_run else system.projections.prune(name)
        verb = "would drop" if args.dry_run else "dropped"
        listed = ", ".join(f"generation {generation} (shape {shape})" for generation, shape in found)
        print(f"{name}: {f'{verb} {listed}' if found else 'nothing to drop'}")


COMMANDS = {"status": status, "verify": verify, "rebuild": rebuild, "skip": skip, "resume": resume, "prune": prune}


class ProgressBar:
    """A one-line progress bar on stderr: fraction done, events and rate."""

    def __init__(self, label: str, width: int = 30) -> None:
        self.label, self.width, self.started = label, width, time.monotonic()
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        filled = int(self.width * done / total) if total else self.width
        rate = done / max(time.monotonic() - self.started, 1e-6)
        print(
            f"\r{self.label}: [{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} events,"
            f" {rate:,.0f} events/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def finish(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"\n{self.label}: {message} ({self.done:,} events in {elapsed:.1f}s)", file=sys.stderr)
