"""The invitation email: the one-time link to create a password, through the reminders' mail transport (SMTP with
ACCORD_SMTP_URL, else an .eml file in the outbox folder)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from uuid import uuid4

from service.mail import email_message, mail_domain, transport_for
from service.settings import Settings

SUBJECT = "Create your password for Accord"


def send_invitation(  # noqa: PLR0913
    settings: Settings, *, name: str, email: str, agency: str, role: str, link: str, now: datetime
) -> None:
    """Send the link to the invited person; raises the transport's error if it cannot be sent."""
    message_id = f"invitation-{uuid4()}"
    role_name = role
    text = (
        f"Hello {name},\n\n"
        f"You have been invited to Accord, the partnership's joint action plans, as {role_name} for {agency}.\n\n"
        f"Create your password with this link. It works once, for 72 hours:\n{link}\n\n"
        "If you were not expecting this email, you can ignore it.\n"
    )
    html = (
        f"<p>Hello {escape(name)},</p>"
        f"<p>You have been invited to Accord, the partnership's joint action plans, as {escape(role_name)} for"
        f" {escape(agency)}.</p>"
        f'<p><a href="{escape(link)}">Create your password</a>. The link works once, for 72 hours.</p>'
        "<p>If you were not expecting this email, you can ignore it.</p>"
    )
    message = email_message(
        sender=settings.mail_from,
        recipient=email,
        subject=SUBJECT,
        message_id=f"<{message_id}@{mail_domain(settings.mail_from)}>",
        date=format_datetime(now.astimezone(UTC)),
        text=text,
        html=html,
    )
    transport = transport_for(settings.smtp_url, settings.outbox_dir)
    try:
        transport.send(message_id, message.as_string())
    finally:
        transport.close()
