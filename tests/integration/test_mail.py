"""The SMTP transport: ACCORD_SMTP_URL's forms, and a login the server checks."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from service.mail import SmtpServer, SmtpTransport, email_message
from tests.reminders_helpers import everything_in, free_port, smtp_server

ACCORD = str(Path(sys.executable).with_name("accord"))


def test_smtp_urls_say_host_port_security_and_login() -> None:
    assert SmtpServer.from_url("smtp://mail.example.org") == SmtpServer("mail.example.org", 25, "plain")
    assert SmtpServer.from_url("smtps://bot:p%40ss@mail.example.org") == SmtpServer(
        "mail.example.org", 465, "ssl", "bot", "p@ss"
    )
    assert SmtpServer.from_url("smtp+starttls://bot:secret@mail.example.org:2525") == SmtpServer(
        "mail.example.org", 2525, "starttls", "bot", "secret"
    )
    with pytest.raises(ValueError, match="ACCORD_SMTP_URL"):
        SmtpServer.from_url("http://mail.example.org")


def test_the_transport_logs_in_with_the_urls_user_and_password() -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"right")

    message = email_message(
        sender="accord@example.org",
        recipient="h@example.org",
        subject="Hello",
        message_id="<1@example.org>",
        date="Mon, 07 Dec 2026 07:00:00 +0000",
        text="Plain",
        html="<p>Rich</p>",
    ).as_string()
    with smtp_server(authenticator=authenticator, auth_require_tls=False) as (inbox, port):
        SmtpTransport(SmtpServer.from_url(f"smtp://bot:right@127.0.0.1:{port}")).send("1", message)
        assert inbox.recipients() == ["h@example.org"]
    assert logins == [(b"bot", b"right")]
    [(_, received)] = inbox.received
    assert [p.get_content_type() for p in received.walk()] == ["multipart/alternative", "text/plain", "text/html"]


def invite(tmp_path: Any, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'accord.db'}",
        "ACCORD_OUTBOX_DIR": str(tmp_path / "outbox"),
        "ACCORD_BASE_URL": "https://accord.example.org",
        **env,
    }
    if "ACCORD_SMTP_URL" not in env:
        environment.pop("ACCORD_SMTP_URL", None)
    command = [ACCORD, "users", "invite", "--name", "Ann Nurse", "--email", "ann@health.example"]
    return subprocess.run(
        [*command, "--agency", "health", "--role", "editor"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_an_invitation_is_emailed_with_the_link_printed_alone_on_the_last_line(tmp_path: Any) -> None:
    with smtp_server() as (inbox, port):
        done = invite(tmp_path, ACCORD_SMTP_URL=f"smtp://127.0.0.1:{port}")
    assert done.returncode == 0, done.stderr
    link = done.stdout.splitlines()[-1]
    assert link.startswith("https://accord.example.org/invitations/")
    [message] = inbox.to("ann@health.example")
    assert message["Subject"] == "Create your password for Accord"
    text = next(p.get_content() for p in message.walk() if p.get_content_type() == "text/plain")
    assert link in text and "Ann Nurse" in text
    assert "ann@health.example" not in done.stderr and "Ann Nurse" not in done.stderr  # Nothing personal logged.


def test_without_smtp_the_invitation_lands_in_the_outbox_folder(tmp_path: Any) -> None:
    done = invite(tmp_path)
    assert done.returncode == 0, done.stderr
    [eml] = (tmp_path / "outbox").glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "ann@health.example"
    assert done.stdout.splitlines()[-1] in everything_in(message)  # type: ignore[arg-type]


def test_a_mail_server_that_is_down_leaves_the_printed_link(tmp_path: Any) -> None:
    done = invite(tmp_path, ACCORD_SMTP_URL=f"smtp://127.0.0.1:{free_port()}")
    assert done.returncode == 0, done.stderr
    assert "could not be sent (ConnectionRefusedError)" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("https://accord.example.org/invitations/")
