"""A world for DAG runs: Box and DAM sandboxes, a mail catcher, the tracking database, real runs."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from campaigns.rules import POLL_INTERVAL
from sandbox.box import fixture as box_fixture
from sandbox.box.app import create_app as create_box_app
from sandbox.connections import box_connection, dam_connection, smtp_connection
from sandbox.dam import fixture as dam_fixture
from sandbox.dam.app import create_app as create_dam_app
from sandbox.mail import MailCatcher
from sandbox.server import run_in_thread

DAGS = Path(__file__).resolve().parents[2] / "dags"
RECIPIENTS = ["campaign-ops@example.com"]
FIRST_RUN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# Every run of the session gets its own logical date, so no two tests share a DAG run.
_RUN_SLOTS = itertools.count()


@dataclass
class Campaign:
    """A campaign of the world: in the DAM at A1, its Box folder as the test wants it."""

    campaign_id: str
    assets: dict[str, int] = field(default_factory=dict)
    folder: str = "empty"  # empty | assets | no_master_assets | no_folder | forbidden | unlinked
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        return f"C-{self.campaign_id}"

    @property
    def box_folder_id(self) -> str:
        return f"box-{self.campaign_id}"


class Sandbox:
    """A running sandbox server and its control API."""

    def __init__(self, server: Any):
        self.server = server
        self.url = server.url

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        # A connection of its own each time: one kept from before a DAG run of some seconds may be
        # closed by the server (its keep-alive ends) just as the next request goes out.
        response = requests.request(method, f"{self.url}/_sandbox/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def fault(self, route: str, statuses: Iterable[int] = (), **script: Any) -> None:
        self.control("POST", "faults", json={"route": route, "statuses": list(statuses), **script})

    def counters(self) -> dict[str, int]:
        return self.control("GET", "counters")


@dataclass
class World:
    """Everything a1_to_a2 talks to, running for one test, and the DAG to run against it."""

    box: Sandbox
    dam: Sandbox
    mail: MailCatcher
    dag: Any
    runs: list[Any] = field(default_factory=list)

    def run(self, **params: Any) -> Any:
        """One real run of the DAG (``dag.test``), three minutes after the previous one.

        Its ``run_after`` is its logical date, as for a scheduled run: the backoff and the settle
        rule count from it. Files added after it are dated by Box at that time.
        """
        logical_date = FIRST_RUN + POLL_INTERVAL * next(_RUN_SLOTS)
        # Box dates what changes from now on at this run's time, as if it were now.
        self.box.control("PUT", "clock", json={"now": logical_date.isoformat()})
        # Every param named: dag.test() keeps a previous run's conf in the DAG's params otherwise.
        conf = dict.fromkeys(self.dag.params, None) | params
        dag_run = self.dag.test(logical_date=logical_date, run_after=logical_date, run_conf=conf)
        self.runs.append(dag_run)
        return dag_run

    def run_again(self, dag_run: Any) -> Any:
        """Clear every task of a finished run and run it again: the same run id."""
        again = self.dag.test(
            logical_date=dag_run.logical_date, run_after=dag_run.run_after, run_conf=dag_run.conf
        )
        assert again.run_id == dag_run.run_id
        return again

    @property
    def state(self) -> Any:
        from campaigns.hooks.retry_state import RetryStateHook

        return RetryStateHook()

    def tracked(self, campaign_id: str) -> Any:
        return self.state.get_a1_retry_status(campaign_id)

    def dam_campaign(self, campaign_id: str) -> dict[str, Any]:
        return self.dam.control("GET", f"campaigns/{campaign_id}")

    def add_assets(self, campaign: Campaign, assets: dict[str, int]) -> None:
        """Upload files into the campaign's Master Assets folder while the world runs."""
        for number, (name, size) in enumerate(assets.items()):
            self.box.control(
                "POST",
                "files",
                json={
                    "id": f"{campaign.box_folder_id}-late-{number}",
                    "name": name,
                    "parent": f"{campaign.box_folder_id}-ma",
                    "size": size,
                },
            )

    def emails(self, campaign: Campaign | None = None) -> list[Any]:
        """Messages received, optionally only those about one campaign."""
        return [
            message
            for message in self.mail.messages
            if campaign is None or campaign.number in message.get_body(("plain",)).get_content()
        ]


def task_states(dag_run: Any) -> dict[str, dict[int, str]]:
    """Task id to {map index: state} for a finished run."""
    from airflow.utils.session import create_session

    states: dict[str, dict[int, str]] = {}
    with create_session() as session:
        for ti in dag_run.get_task_instances(session=session):
            states.setdefault(ti.task_id, {})[ti.map_index] = str(ti.state)
    return states


def build_fixture(campaigns: Iterable[Campaign], dam_variant: str = "strict") -> dict[str, Any]:
    """The sandboxes' fixture for these campaigns, the DAM as the site variant `dam_variant`."""
    parts, dam_campaigns = [], []
    for c in campaigns:
        if c.folder in ("empty", "assets"):
            parts.append(box_fixture.campaign_folder(c.box_folder_id, assets=c.assets))
        elif c.folder == "no_master_assets":
            parts.append(box_fixture.campaign_folder(c.box_folder_id, master_assets_name=None))
        elif c.folder == "forbidden":
            locked = box_fixture.folder(c.box_folder_id, "Locked", forbidden=True)
            parts.append({"folders": [locked]})
        dam_campaigns.append(
            dam_fixture.campaign(
                c.campaign_id,
                c.name,
                number=c.number,
                box_folder_id=None if c.folder == "unlinked" else c.box_folder_id,
                metadata=c.metadata,
                missing=c.missing,
            )
        )
    site = dam_fixture.VARIANTS[dam_variant]["site"]
    return {"box": box_fixture.box_fixture(*parts), "dam": dam_fixture.dam(dam_campaigns, **site)}


def parsed_dag(file_name: str, dag_id: str) -> Any:
    """A DAG of ``dags/`` as Airflow parses it; its file must import without errors."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / file_name))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


@pytest.fixture(scope="session")
def a1_to_a2_dag(airflow_db: None, tracking_db_url: str) -> Any:
    """The DAG as Airflow parses it, with retry delays cut to a second for the tests and no
    deadline alert."""
    dag = parsed_dag("a1_to_a2.py", "a1_to_a2")
    for task in dag.tasks:
        task.retry_delay = timedelta(seconds=1)
        task.retry_exponential_backoff = 0
    # dag.test() cannot finish a successful run with the deadline alert on (dags/a1_to_a2.py says
    # why); tests/e2e/test_poll_deadline_run.py runs it under the scheduler.
    dag.deadline = None
    return dag


@pytest.fixture
def make_world(a1_to_a2_dag: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start the sandboxes holding ``campaigns`` and point every connection at them; the DAM is
    the strict site (``dam_variant`` names another of ``sandbox.dam.fixture.VARIANTS``)."""
    started: list[Any] = []

    def make(campaigns: Iterable[Campaign], dam_variant: str = "strict", **settings: Any) -> World:
        fixture = build_fixture(campaigns, dam_variant)
        box = Sandbox(run_in_thread(create_box_app(fixture)))
        dam = Sandbox(run_in_thread(create_dam_app(fixture)))
        mail = MailCatcher().start()
        started.extend([box.server, dam.server, mail])
        monkeypatch.setenv("AIRFLOW_CONN_BOX_DEFAULT", json.dumps(box_connection(box.url)))
        extras = dam_fixture.VARIANTS[dam_variant]["extras"]
        monkeypatch.setenv(
            "AIRFLOW_CONN_DAM_DEFAULT", json.dumps(dam_connection(dam.url, **extras))
        )
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(smtp_connection(mail.host, mail.port))
        )
        monkeypatch.setenv(
            "AIRFLOW_VAR_A1_TO_A2_SETTINGS", json.dumps({"recipients": RECIPIENTS, **settings})
        )
        return World(box, dam, mail, a1_to_a2_dag)

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def uid() -> str:
    """A prefix that makes this test's campaign ids its own in the shared tracking database."""
    return uuid.uuid4().hex[:6]
