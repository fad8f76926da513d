"""The campaign emails: rendered from ``include/templates/email/``, sent once through SMTP."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaigns.hooks.retry_state import RetryStateHook

TEMPLATE_DIR = Path(
    os.environ.get(
        "A1_TO_A2_TEMPLATE_DIR",
        Path(__file__).resolve().parents[2] / "include" / "templates" / "email",
    )
)

# The ledger's kind and the seed's template name for each emailing action.
WARNING = ("warning", "a1_to_a2_no_assets_warning")
RETRY = ("retry", "a1_to_a2_no_assets_retry")
FAILED = ("failed", "a1_to_a2_permanently_failed")

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Email:
    """A rendered email: one-line subject, plain text and HTML alternatives."""

    subject: str
    text: str
    html: str


def _sql_literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@cache
def _environments() -> tuple[Any, Any]:
    import jinja2

    def make(autoescape: bool) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        env.filters["sql_literal"] = _sql_literal
        return env

    return make(False), make(True)


def render_email(template: str, **context: Any) -> Email:
    """Render ``<template>.subject``, ``.txt`` and ``.html``; the HTML escapes every value."""
    plain, html = _environments()
    subject = plain.get_template(f"{template}.subject").render(context)
    return Email(
        subject=_CONTROL.sub(" ", subject).strip(),
        text=plain.get_template(f"{template}.txt").render(context),
        html=html.get_template(f"{template}.html").render(context),
    )


def build_message(email: Email, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """A multipart/alternative message, plain text first."""
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def send_email(
    email: Email, recipients: tuple[str, ...], sender: str | None, conn_id: str = "smtp_default"
) -> None:
    """Send through Airflow's SMTP provider; any failure raises, so the task fails and retries."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    if not recipients:
        raise ValueError("no recipients: set 'recipients' in the a1_to_a2_settings Variable")
    with SmtpHook(smtp_conn_id=conn_id) as smtp:
        from_email = sender or smtp.from_email
        if not from_email:
            raise ValueError(
                "no sender: set 'sender' in a1_to_a2_settings or from_email on the connection"
            )
        message = build_message(email, from_email, recipients)
        # The provider's own send_email_smtp has no plain-text part and resends on any error.
        smtp.get_conn()._smtp_client.send_message(message)


def notify_once(
    state: RetryStateHook,
    campaign_id: str,
    kind: str,
    run_id: str,
    episode: int,
    attempt: int,
    send: Any,
) -> bool:
    """Claim the notification, ``send()`` unless it went out already, stamp it; True if sent."""
    claim = state.claim_notification(campaign_id, kind, run_id, episode=episode, attempt=attempt)
    if claim.sent_at is not None:
        return False
    send()
    state.mark_notification_sent(claim.id)
    return True
