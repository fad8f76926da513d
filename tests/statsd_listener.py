"""A StatsD server's receiving end for the tests, and Airflow's Stats set up as configured now."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

from campaigns import metrics

# Airflow's statsd_prefix in the tests.
PREFIX = "a1test"
SYNC = b"sync"


@dataclass
class Datagram:
    """One StatsD line: ``name[,tag=value...]:value|type``."""

    name: str
    value: float
    kind: str
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, line: str) -> Datagram:
        named, _, rest = line.rpartition(":")
        name, *tags = named.split(",")
        value, kind = rest.split("|")[:2]
        return cls(name, float(value), kind, dict(tag.split("=", 1) for tag in tags))


class StatsdListener:
    """A StatsD server's receiving end: every datagram on 127.0.0.1, kept until taken."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.lines: list[str] = []
        self.synced = threading.Condition()
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        while True:
            try:
                data = self.socket.recv(65_535)
            except OSError:
                return
            with self.synced:
                if data == SYNC:
                    self.synced.notify_all()
                else:
                    self.lines.extend(data.decode().splitlines())

    def take(self) -> list[Datagram]:
        """The datagrams of this test's pipeline received so far (a marker sent after them, and
        waited for, makes sure none is still on its way); the list starts again empty."""
        with self.synced:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                sender.sendto(SYNC, ("127.0.0.1", self.port))
            assert self.synced.wait(timeout=30), "the listener never got its own marker"
            lines, self.lines = self.lines, []
        ours = f"{PREFIX}.{metrics.PREFIX}."
        return [Datagram.parse(line) for line in lines if line.startswith(ours)]

    def close(self) -> None:
        self.socket.close()


def initialize_stats() -> None:
    """What ``task_runner.main`` does first in every task process: Stats as configured now."""
    from airflow.sdk.configuration import conf
    from airflow.sdk.observability import stats
    from airflow.sdk.observability.metrics import stats_utils

    stats.initialize(
        factory=stats_utils.get_stats_factory(),
        export_legacy_names=conf.getboolean("metrics", "legacy_names_on"),
    )
