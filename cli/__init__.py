"""The `accord` command line: serve the API, manage users. Every command honours the ACCORD_* variables."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cli import importing, plans, projections, reminders, report, status, users
from domain.errors import DomainError
from service.bootstrap import bootstrap
from service.settings import VAR_DIR, Settings

DEMO_TOKENS = VAR_DIR / "demo-tokens.env"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accord", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the HTTP API under gunicorn (loads the demo into an empty store)")
    serve.add_argument("--workers", type=int, default=None, help="gunicorn worker processes")
    serve.add_argument("--no-demo", action="store_true", help="do not load the demo plan into an empty store")
    serve.set_defaults(func=serve_command)

    users.add_commands(commands)

    worker = commands.add_parser("worker", help="run one RQ worker that builds the projections (stops on SIGTERM)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.set_defaults(func=worker_command)

    projections.add_commands(commands)
    plans.add_commands(commands)
    status.add_commands(commands)
    reminders.add_commands(commands)
    importing.add_commands(commands)
    report.add_commands(commands)

    demo = commands.add_parser("demo", help="load the demo plan now and print its users' tokens")
    demo.add_argument("--plan", type=Path, default=None, help="a plan in the demo JSON format")
    demo.set_defaults(func=demo_command)

    audit = commands.add_parser("audit", help="tamper evidence: check the stored events against their hash chain")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")
    verify = audit_commands.add_parser("verify", help="exit 1, naming the first break, if any event was tampered with")
    verify.add_argument(
        "--expect", type=expected_head, default=None, metavar="POSITION:DIGEST", help="a head reported earlier"
    )
    verify.set_defaults(func=audit_verify)
    audit_commands.add_parser("head", help="print the current head digest and its position").set_defaults(
        func=audit_head
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args, Settings.from_env()) or 0)
    except DomainError as error:
        print(f"accord: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def demo_command(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings)
    try:
        print_demo_tokens(load_demo_tokens(system, args.plan), settings.pages_url)
    finally:
        system.close()


def load_demo_tokens(system: Any, plan: Path | None = None) -> dict[str, str]:
    from service.demo import load_demo

    print("Loading the demo plan (Shropshire, 2011) with months of back-dated updates...", file=sys.stderr)
    tokens = load_demo(system.app, plan)
    DEMO_TOKENS.parent.mkdir(parents=True, exist_ok=True)
    DEMO_TOKENS.write_text("".join(f"export {name}={token}\n" for name, token in tokens.items()))
    DEMO_TOKENS.chmod(0o600)
    return tokens


def print_demo_tokens(tokens: dict[str, str], pages_url: str = "") -> None:
    print("\nDemo users (tokens shown once; also saved to var/demo-tokens.env, readable only by you):")
    for name, token in tokens.items():
        if name.endswith("_TOKEN"):
            print(f"  {name}={token}")
    print(f"\nSign in to the pages at {pages_url or 'the address below'}/ as any of them (same file):")
    for name, email in tokens.items():
        if name.endswith("_EMAIL"):
            print(f"  {email:<34} password {tokens[name.removesuffix('_EMAIL') + '_PASSWORD']}")
    print()


def worker_command(args: argparse.Namespace, settings: Settings) -> None:
    from workers.worker import run_worker

    run_worker(settings, burst=args.burst)


def expected_head(text: str) -> Any:
    from service.chain import Head

    position, _, digest = text.partition(":")
    if not position.isdigit() or len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise argparse.ArgumentTypeError("expected POSITION:DIGEST, as `accord audit head` prints them")
    return Head(int(position), digest)


def audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from service.chain import ChainUnavailableError, audit

    system = bootstrap(settings, in_process=False)
    try:
        report = audit(system.app.recorder, args.expect)
    except ChainUnavailableError as error:
        print(f"accord: {error}", file=sys.stderr)
        return 2
    finally:
        system.close()
    if report.first_break is not None:
        print(f"accord: {report.first_break}", file=sys.stderr)
        return 1
    print(f"chain intact: {report.events} events, {report.head}")
    return 0


def audit_head(args: argparse.Namespace, settings: Settings) -> None:
    from service.chain import head

    system = bootstrap(settings, in_process=False)
    try:
        current = head(system.app.recorder)
    finally:
        system.close()
    print(f"{current.algorithm} head; to check it later: accord audit verify --expect <this line>", file=sys.stderr)
    print(f"{current.position}:{current.digest}")


def serve_command(args: argparse.Namespace, settings: Settings) -> None:
    # Build, check and close everything before gunicorn forks: each worker builds its own (psycopg pools
    # are not fork-safe).
    system = bootstrap(settings)
    try:
        if settings.load_demo and not args.no_demo and system.app.is_empty():
            print_demo_tokens(load_demo_tokens(system), settings.pages_url)
    finally:
        system.close()
    run_gunicorn(settings, workers=args.workers)


def run_gunicorn(settings: Settings, workers: int | None) -> None:
    from gunicorn.app.base import BaseApplication

    from api import create_app, served

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", workers or int(os.environ.get("WEB_CONCURRENCY", "1")))
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", None)
            for name, value in served.SETTINGS.items():  # Limits, and gunicorn's refusals as problem bodies.
                self.cfg.set(name, value)

        def load(self) -> Any:
            return create_app(settings)

    print(f"Accord is serving on http://{settings.host}:{settings.port}/ (Ctrl-C stops it)", file=sys.stderr)
    Server().run()
