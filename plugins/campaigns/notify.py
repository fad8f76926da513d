"""The campaign notifications, each claimed in the ledger and sent once.

Emails rendered from ``include/templates/email/`` and sent through SMTP; with the setting
``webhook_conn_id``, the same events (and promotions) POSTed as JSON through the HTTP provider.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaigns.settings import VARIABLE, SettingsError

if TYPE_CHECKING:
    from campaigns.hooks.retry_state import Notification, RetryStateHook

SMTP_CONN_ID = "smtp_default"

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
# The ledger's kind of a promotion, announced by the webhook only.
RESET = "reset"
# The ledger's channels.
EMAIL = "email"
WEBHOOK = "webhook"
WEBHOOK_TIMEOUT_SECONDS = 30

# C0 and C1 controls (NEL among them) and the Unicode line separators: all end a header line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


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


def run_url(dag_id: str, run_id: str) -> str:
    """A run's page in the Airflow UI."""
    from urllib.parse import quote

    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="http://localhost:8080").rstrip("/")
    return f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def build_message(email: Email, sender: str, recipients: tuple[str, ...]) -> MIMEMultipart:
    """A multipart/alternative message, plain text first.

    Python's newer ``EmailMessage`` folds a long non-ASCII subject with the space between two
    encoded words, where every reader drops it (RFC 2047, 6.2); ``Header`` keeps spaces inside.
    """
    message = MIMEMultipart("alternative")
    message["Subject"] = Header(email.subject, "utf-8")
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.attach(MIMEText(email.text, "plain", "utf-8"))
    message.attach(MIMEText(email.html, "html", "utf-8"))
    return message


def send_email(
    email: Email, recipients: tuple[str, ...], sender: str | None, conn_id: str = SMTP_CONN_ID
) -> None:
    """Send through Airflow's SMTP provider; any failure raises, so the task fails and retries.

    No recipients or no sender is a SettingsError naming the setting: the task fails at once.
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    if not recipients:
        raise SettingsError(
            f"recipients: none, and an email is due; set 'recipients' in the {VARIABLE} Variable"
        )
    with SmtpHook(smtp_conn_id=conn_id) as smtp:
        from_email = sender or smtp.from_email
        if not from_email:
            raise SettingsError(
                f"sender: none; set 'sender' in the {VARIABLE} Variable or from_email on "
                f"SMTP connection {conn_id!r}"
            )
        message = build_message(email, from_email, recipients)
        # The provider's own send_email_smtp has no plain-text part and resends on any error.
        smtp.get_conn()._smtp_client.send_message(message)


def notify_once(
    state: RetryStateHook,
    campaign_id: str | None,
    kind: str,
    run_id: str,
    episode: int,
    attempt: int,
    send: Any,
    channel: str = EMAIL,
) -> bool:
    """Claim the notification, ``send(claim)`` unless sent already, then stamp it; True if sent.

    ``campaign_id`` None: a notification of the whole run.
    """
    claim = state.claim_notification(
        campaign_id, kind, run_id, episode=episode, attempt=attempt, channel=channel
    )
    if claim.sent_at is not None:
        return False
    send(claim)
    state.mark_notification_sent(claim.id)
    return True


def webhook_event(campaign: dict[str, Any], claim: Notification) -> dict[str, Any]:
    """The JSON event of one decided campaign's action; the same body on every retry."""
    return {
        "idempotency_key": idempotency_key(claim),
        "action": campaign["action"],
        "campaign_id": campaign["campaign_id"],
        "campaign_number": campaign["number"],
        "campaign_name": campaign["name"],
        "attempt": campaign["attempt"],
        "max_attempts": campaign["max_attempts"],
        "reason": campaign["reason"],
        "poll_count": campaign["poll_count"],
        "episode": campaign["episode"],
        "run_id": claim.run_id,
        "timestamp": claim.claimed_at.isoformat(),
    }


def idempotency_key(claim: Notification) -> str:
    """The key receivers dedupe on: the ledger row, the same for every try of the delivery."""
    return f"a1_to_a2-notification-{claim.id}"


def post_webhook(event: dict[str, Any], conn_id: str) -> None:
    """POST the event through Airflow's HTTP provider; any failure (or non-2xx) raises."""
    from airflow.providers.http.hooks.http import HttpHook

    HttpHook(method="POST", http_conn_id=conn_id).run(
        json=event,
        headers={"Idempotency-Key": event["idempotency_key"]},
        extra_options={"timeout": WEBHOOK_TIMEOUT_SECONDS},
    )


def notify_webhook(
    state: RetryStateHook, campaign: dict[str, Any], kind: str, run_id: str, conn_id: str
) -> bool:
    """Send the campaign's event to the webhook once, claimed in the ledger; True if sent."""
    return notify_once(
        state,
        campaign["campaign_id"],
        kind,
        run_id,
        episode=campaign["episode"],
        attempt=campaign["attempt"] or 0,
        send=lambda claim: post_webhook(webhook_event(campaign, claim), conn_id),
        channel=WEBHOOK,
    )
