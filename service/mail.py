"""Sending mail: SMTP from the standard library (plain, STARTTLS or SSL, with optional login) from ACCORD_SMTP_URL,
or, without it, .eml files in a folder, so a laptop shows what would be sent."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": "plain", "smtps": "ssl", "smtp+starttls": "starttls"}
DEFAULT_PORTS = {"plain": 25, "ssl": 465, "starttls": 587}
TIMEOUT = 30.0  # Seconds for each SMTP step: a server that hangs cannot hold a message's lease for long.
# A refusal of this one message; any other error means the server is unavailable, so the run stops trying.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class Transport(Protocol):
    def send(self, message_id: str, message: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # plain, ssl or starttls
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValueError("ACCORD_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://")
        security = SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or DEFAULT_PORTS[security],
            security=security,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpTransport:
    """One connection per run, opened at the first message and reused for the rest."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.connection: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        s = self.server
        context = ssl.create_default_context()
        if s.security == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT, context=context)
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
            if s.security == "starttls":
                connection.starttls(context=context)
        if s.user:
            connection.login(s.user, s.password or "")
        return connection

    def send(self, message_id: str, message: str) -> None:
        parsed = message_from_string(message, policy=policy.SMTP)
        if self.connection is None:
            self.connection = self.connect()
        try:
            self.connection.send_message(parsed)
        except REFUSALS:
            raise
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.quit()
            except Exception:  # The server went away: nothing left to close politely.
                connection.close()


class FileTransport:
    """Each message as `<id>.eml` in a folder, written whole (atomically) or not at all."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message_id: str, message: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{message_id}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_text(message, encoding="utf-8")
        partial.replace(path)

    def close(self) -> None:
        pass


def transport_for(smtp_url: str | None, outbox_dir: Path) -> Transport:
    return SmtpTransport(SmtpServer.from_url(smtp_url)) if smtp_url else FileTransport(outbox_dir)


def is_refusal(error: BaseException) -> bool:
    """Whether the server refused this one message (others may still go) rather than being unavailable."""
    return isinstance(error, REFUSALS)


def error_name(error: BaseException) -> str:
    """What went wrong, without personal data (an SMTP refusal's text can quote the address)."""
    code: Any = getattr(error, "smtp_code", None)
    return f"{type(error).__name__} {code}" if code else type(error).__name__


def email_message(  # noqa: PLR0913
    *, sender: str, recipient: str, subject: str, message_id: str, date: str, text: str, html: str
) -> EmailMessage:
    """A multipart/alternative message: plain text first, then HTML."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = date
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies should not answer it.
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def mail_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"
