"""The sandbox faults this suite relies on: a request left unanswered, a fault for one folder's
path only, and a mail catcher stopped and started again on its port."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
import requests

from sandbox.box.fixture import box_fixture, campaign_folder
from sandbox.mail import MailCatcher
from tests.integration._box_fixtures import (  # noqa: F401 (a fixture)
    ITEMS_ROUTE,
    BoxSandbox,
    start_box_fixture,
)


def test_a_hang_answers_nothing_and_a_path_fault_hits_only_its_folder(start_box):
    box: BoxSandbox = start_box(box=box_fixture(campaign_folder("1"), campaign_folder("2")))
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {box.token()}"
    box.fault("GET /2.0/folders/1/items", hang=1)

    with pytest.raises(requests.Timeout):
        api.get(f"{box.url}/2.0/folders/1/items", timeout=1)
    assert api.get(f"{box.url}/2.0/folders/2/items", timeout=10).status_code == 200
    assert api.get(f"{box.url}/2.0/folders/1/items", timeout=10).status_code == 200
    assert box.counters()[ITEMS_ROUTE] == 3


def send(mail: MailCatcher, subject: str) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, "a@example.com", "b@example.com"
    message.set_content("body")
    with smtplib.SMTP(mail.host, mail.port, timeout=10) as smtp:
        smtp.send_message(message)


def test_a_stopped_mail_catcher_refuses_mail_then_takes_it_again_on_its_port():
    mail = MailCatcher().start()
    try:
        send(mail, "before")
        mail.stop()
        with pytest.raises(ConnectionRefusedError):
            send(mail, "while down")
        mail.start()
        send(mail, "after")
        assert mail.subjects() == ["before", "after"]
    finally:
        mail.stop()
