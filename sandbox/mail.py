"""A local SMTP server that keeps every message it receives, in memory and optionally on disk."""

from __future__ import annotations

import logging
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO; a catcher's user wants the messages, not the dialogue.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class MailCatcher:
    """Receives mail on 127.0.0.1: ``messages`` holds what came, ``directory`` gets .eml files."""

    def __init__(self, directory: Path | None = None, host: str = "127.0.0.1", port: int = 0):
        self.directory = directory
        self.host = host
        self.port = port or _free_port(host)
        self.messages: list[EmailMessage] = []
        self.refusing = False
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            return "421 Service not available, try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                stamp = time.strftime("%Y%m%d-%H%M%S")
                path = self.directory / f"{stamp}-{len(self.messages):04d}.eml"
                path.write_bytes(envelope.content)
        return "250 OK"

    def start(self) -> MailCatcher:
        """Listen on the catcher's port; a stopped catcher starts again there, keeping its mail."""
        if self._controller is None:
            self._controller = Controller(self, hostname=self.host, port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        """Close the port: senders find no server until ``start()``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def subjects(self) -> list[str]:
        with self._lock:
            return [str(message["Subject"]).strip() for message in self.messages]


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
