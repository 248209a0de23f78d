"""The SMTP transport: ACCORD_SMTP_URL's forms, and a login the server checks."""

from __future__ import annotations

from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from service.mail import SmtpServer, SmtpTransport, email_message
from tests.reminders_helpers import smtp_server


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
