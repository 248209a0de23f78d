"""A real SMTP server in the test process (aiosmtpd), and Reminders wired to it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from service.mail import transport_for
from service.outbox import Outbox
from service.reminders import Reminders


@dataclass
class Inbox:
    """What the SMTP server received: (envelope recipients, message) per message."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # Addresses this server refuses (550), as a real one might.

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.received if address in recipients]

    def recipients(self) -> list[str]:
        return sorted(address for recipients, _ in self.received for address in recipients)


def everything_in(message: EmailMessage) -> str:
    """Headers and every text part, decoded: what a reader could see."""
    parts = [str(part.get_content()) for part in message.walk() if part.get_content_maintype() == "text"]
    return "\n".join([*(f"{k}: {v}" for k, v in message.items()), *parts])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(port: int | None = None, **smtp: Any) -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on `port` (default: a free one); `smtp` goes to aiosmtpd's SMTP (e.g. an authenticator)."""
    inbox, port = Inbox(), port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def reminders(system: Any, port: int, clock: Callable[[], datetime] | None = None) -> Reminders:
    """Reminders sending to 127.0.0.1:`port`; the outbox's clock (for backoff) may be the test's."""
    settings = replace(system.settings, smtp_url=f"smtp://127.0.0.1:{port}")
    outbox = Outbox(system.app.factory, clock=clock or system.app.clock)
    return Reminders(
        system.app, system.projections, settings, outbox, transport_for(settings.smtp_url, settings.outbox_dir)
    )
