"""`accord users add|invite|list|revoke`: bearer tokens are printed once, at `add`, and never again; invitation
links once, at `invite`."""

from __future__ import annotations

import argparse
import sys
from typing import Any
from uuid import UUID

from domain.principals import ROLES
from service.bootstrap import bootstrap
from service.settings import Settings


def add_commands(commands: Any) -> None:
    parser = commands.add_parser("users", help="add, list and revoke users and their bearer tokens")
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="USERS_COMMAND")
    add_parser = sub.add_parser("add", help="create a user and print its token once, alone on the last line")
    add_parser.add_argument("--name", required=True, help="the person's name, as the access log shows it (not blank)")
    add_parser.add_argument(
        "--agency", required=True, help="the agency the user acts for: one of ACCORD_AGENCIES (e.g. health)"
    )
    add_parser.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="coordinator: manages plans, updates any action; editor: updates the actions its agency leads or"
        " helps with; inspector: reads everything, the access log too; reader: reads plans and actions",
    )
    add_parser.add_argument("--email", default=None, help="where reminders and digests go (optional, unique)")
    add_parser.set_defaults(func=add)
    invite_parser = sub.add_parser(
        "invite", help="create a person who signs in to the pages; print a one-time link (72 hours) on the last line"
    )
    invite_parser.add_argument("--name", required=True)
    invite_parser.add_argument("--email", required=True, help="what the person signs in with (unique)")
    invite_parser.add_argument("--agency", required=True)
    invite_parser.add_argument("--role", required=True, choices=ROLES)
    invite_parser.set_defaults(func=invite)
    sub.add_parser("list", help="every user: id, agency, role, revoked, email, name (never a token)").set_defaults(
        func=list_users
    )
    revoke_parser = sub.add_parser("revoke", help="refuse the user's token from now on (401)")
    revoke_parser.add_argument("user_id", type=UUID, metavar="USER_ID", help="as `accord users list` shows it")
    revoke_parser.set_defaults(func=revoke)
    digests_parser = sub.add_parser("digests", help="turn the user's weekly digest email on or off")
    digests_parser.add_argument("user_id", type=UUID, metavar="USER_ID", help="as `accord users list` shows it")
    digests_parser.add_argument("state", choices=("on", "off"))
    digests_parser.set_defaults(func=digests)


def add(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings)
    try:
        user_id, token = system.app.add_user(name=args.name, agency=args.agency, role=args.role, email=args.email)
    finally:
        system.close()
    print(f"user {user_id} ({args.role}, {args.agency}); its token, shown only now:", file=sys.stderr)
    print(token)


def invite(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings)
    try:
        user_id, token = system.app.invite_user(name=args.name, email=args.email, agency=args.agency, role=args.role)
    finally:
        system.close()
    print(f"user {user_id} ({args.role}, {args.agency}); send them this link (one use, 72 hours):", file=sys.stderr)
    print(f"{settings.pages_url}/invitations/{token}")


def list_users(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings, in_process=False)
    try:
        users = system.app.list_users()
    finally:
        system.close()
    print(f"{'id':<38}{'agency':<14}{'role':<13}{'revoked':<9}{'email':<32}name")
    for user in users:
        revoked = "yes" if user["revoked"] else "no"
        email = user["email"] or "-"
        print(f"{user['id']!s:<38}{user['agency']:<14}{user['role']:<13}{revoked:<9}{email:<32}{user['name']}")


def revoke(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings, in_process=False)
    try:
        system.app.revoke_user(args.user_id)
    finally:
        system.close()
    print(f"user {args.user_id} revoked: its token now gets 401")


def digests(args: argparse.Namespace, settings: Settings) -> None:
    system = bootstrap(settings, in_process=False)
    try:
        system.app.set_digests(args.user_id, args.state == "on")
    finally:
        system.close()
    print(f"user {args.user_id}: weekly digests {args.state}")
