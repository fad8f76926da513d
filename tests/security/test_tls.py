"""TLS to the DAM and to Box: verified unless a connection turns it off, and then a warning.

The sandboxes serve HTTPS with a certificate from a CA generated here; nobody trusts that CA
unless a connection names it (extra `verify`: a CA bundle path, or false to turn checks off).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import certifi
import pytest

from campaigns.hooks.box import BoxHook, BoxTLSError
from campaigns.hooks.dam import DamError, DamHook
from sandbox.box import fixture as box_fixture
from sandbox.box.app import create_app as create_box_app
from sandbox.connections import box_connection, dam_connection
from sandbox.dam import fixture as dam_fixture
from sandbox.dam.app import create_app as create_dam_app
from sandbox.server import RunningServer, run_in_thread
from tests.dags.world import Campaign, build_fixture, task_states
from tests.integration._dam_fixtures import TlsFiles

CAMPAIGN = "tls-1"
FIXTURE = {
    "box": box_fixture.box_fixture(box_fixture.campaign_folder(CAMPAIGN, assets=["a.jpg"])),
    "dam": dam_fixture.dam([dam_fixture.campaign(CAMPAIGN, box_folder_id=CAMPAIGN)]),
}
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@dataclass(frozen=True)
class Service:
    """One sandbox: its app, its connection, a hook call through it and its TLS failure."""

    name: str
    start: Callable[[dict], Any]
    connection: Callable[..., dict]
    use: Callable[[], list[str]]
    found: list[str]
    error: type[Exception]


SERVICES = {
    "dam": Service(
        "the DAM",
        create_dam_app,
        dam_connection,
        lambda: [c.campaign_id for c in DamHook("tls_conn").get_campaigns("A1").campaigns],
        [CAMPAIGN],
        DamError,
    ),
    "box": Service(
        "Box",
        create_box_app,
        box_connection,
        lambda: [a.name for a in BoxHook("tls_conn").check_campaign_folder(CAMPAIGN).assets],
        ["a.jpg"],
        BoxTLSError,
    ),
}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return TlsFiles(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def servers(tls: TlsFiles) -> Iterator[dict[str, RunningServer]]:
    options = tls.server_options(require_client_cert=False)
    running = {name: run_in_thread(s.start(FIXTURE), **options) for name, s in SERVICES.items()}
    yield running
    for server in running.values():
        server.stop()


@pytest.fixture(params=list(SERVICES))
def service(request, servers, monkeypatch) -> tuple[Service, Callable[..., None]]:
    """A service over HTTPS and how to set connection `tls_conn` to it."""
    chosen = SERVICES[request.param]
    url = servers[request.param].url

    def connect(**extras: Any) -> None:
        connection = chosen.connection(url, max_attempts=2, **extras)
        monkeypatch.setenv("AIRFLOW_CONN_TLS_CONN", json.dumps(connection))

    return chosen, connect


def test_verification_is_on_by_default(service):
    chosen, connect = service
    connect()
    with pytest.raises(chosen.error, match=rf"TLS with {chosen.name} at https://127\.0\.0\.1"):
        chosen.use()


def test_the_connections_ca_bundle_is_used_whatever_the_environment_says(service, tls, monkeypatch):
    chosen, connect = service
    # requests lets REQUESTS_CA_BUNDLE override a session's own setting: not the connection's.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    connect(verify=tls.ca)
    assert chosen.use() == chosen.found


def test_verification_off_only_when_asked_and_then_a_warning(service, capfd):
    chosen, connect = service
    connect(verify="false")
    capfd.readouterr()
    assert chosen.use() == chosen.found
    log = "".join(capfd.readouterr())  # the hooks' loggers write to the console, not to caplog
    assert re.search(
        rf"\[warning *\] TLS verification of {chosen.name} at https://127\.0\.0\.1:\d+ is off "
        r"\(connection tls_conn\)",
        log,
    ), log


@pytest.mark.slow
def test_an_untrusted_certificate_fails_the_poll_without_a_strike(
    make_suite_world, tls, monkeypatch, capfd
):
    """Box and then the DAM behind a certificate nobody trusts: the run fails, nothing changes."""
    campaign = Campaign(f"{uuid.uuid4().hex[:6]}-tls")
    world = make_suite_world([campaign])
    options = tls.server_options(require_client_cert=False)
    fixture = build_fixture([campaign])
    with run_in_thread(create_box_app(fixture), **options) as box:
        monkeypatch.setenv("AIRFLOW_CONN_BOX_DEFAULT", json.dumps(box_connection(box.url)))
        run = world.run()
    assert str(run.state) == "failed"
    # select is the first task to call Box: it reads Box's change feed.
    assert task_states(run)["select"] == {-1: "failed"}
    assert f"TLS with Box at {box.url}" in "".join(capfd.readouterr())
    tracked = world.tracked(campaign.campaign_id)
    assert (tracked.state.poll_count, tracked.state.consecutive_errors) == (0, 0)

    with run_in_thread(create_dam_app(fixture), **options) as dam:
        monkeypatch.setenv("AIRFLOW_CONN_DAM_DEFAULT", json.dumps(dam_connection(dam.url)))
        run = world.run()
    assert str(run.state) == "failed"
    assert task_states(run)["fetch"] == {-1: "failed"}
    assert f"TLS with the DAM at {dam.url}" in "".join(capfd.readouterr())
    assert world.tracked(campaign.campaign_id) == tracked
    assert world.mail.messages == []
