"""`accord reminders send|preview|status`: the daily reminders and digests, for cron and operators."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from service.bootstrap import bootstrap
from service.reminders import reminders_for
from service.settings import Settings


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("reminders", help="reminders before meetings and weekly digests, by email")
    sub = parser.add_subparsers(dest="reminders_command", required=True, metavar="REMINDERS_COMMAND")
    send_parser = sub.add_parser(
        "send", help="record what is due today in the outbox and send what waits (run twice, sends nothing new)"
    )
    send_parser.add_argument("--on", type=date.fromisoformat, default=None, metavar="DATE", help="as if on DATE")
    send_parser.set_defaults(func=send)
    preview_parser = sub.add_parser("preview", help="print who would get what on a date; records and sends nothing")
    preview_parser.add_argument("--on", type=date.fromisoformat, default=None, metavar="DATE", help="default today")
    preview_parser.set_defaults(func=preview)
    sub.add_parser("status", help="messages sent, waiting and failed (exit 1 while any has failed)").set_defaults(
        func=status
    )


def send(args: argparse.Namespace, settings: Settings) -> int:
    system = bootstrap(settings)
    try:
        result = reminders_for(system).send(args.on or system.app.today())
    finally:
        system.close()
    where = "by SMTP" if settings.smtp_url else f"as .eml files in {settings.outbox_dir}/"
    print(f"{result['recorded']} new messages recorded; {result['sent']} sent {where}, {result['failed']} failed.")
    print(
        f"Outbox: {result['sent_total']} sent, {result['waiting']} waiting, of which {result['failed_total']} failed."
    )
    return 1 if result["failed"] else 0


def preview(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings)
    try:
        on = args.on or system.app.today()
        messages = reminders_for(system).preview(on)
    finally:
        system.close()
    print(f"{len(messages)} messages would be sent on {on.isoformat()}:")
    for m in messages:
        if m["kind"] == "reminder":
            print(
                f"  reminder to {m['to']} ({m['agency']}): {m['plan']}, {m['meeting']}, updates due {m['updates_due']};"
                f" actions {', '.join(m['actions'])}"
            )
        else:
            print(
                f"  digest to {m['to']} ({m['agency']}), week {m['week']}: overdue {', '.join(m['overdue']) or '-'};"
                f" due soon {', '.join(m['due_soon']) or '-'}"
            )


def status(args: argparse.Namespace, settings: Settings) -> int:
    system = bootstrap(settings, in_process=False)
    try:
        report = reminders_for(system).status()
    finally:
        system.close()
    print(f"{report['sent']} sent, {report['waiting']} waiting, {report['failed']} failed (waiting to be retried)")
    for m in report["waiting_messages"]:
        error = f", last error {m['last_error']}" if m["last_error"] else ""
        print(f"  {m['kind']} {m['id']}: {m['attempts']} attempts, next at {m['next_attempt_at']}{error}")
    return 1 if report["failed"] else 0
