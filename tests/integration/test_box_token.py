"""One Box token for every task and run, through an Airflow Variable, against the Box sandbox.

The tasks are real (``dag.test()`` of ``box_token_dags/box_token_tasks.py``): only in a task
does the Task SDK reach Variables. Outside one, each hook keeps its token in memory.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk._shared.secrets_masker import redact, should_hide_value_for_key
from airflow.sdk.exceptions import AirflowRuntimeError, ErrorType
from airflow.sdk.execution_time import task_runner
from airflow.sdk.execution_time.comms import (
    DeleteVariable,
    ErrorResponse,
    GetVariable,
    PutVariable,
)
from box_sdk_gen import AccessToken
from cryptography.fernet import Fernet

from campaigns.hooks import box_token
from campaigns.hooks.box import BoxHook
from campaigns.hooks.box_token import (
    RENEW_MARGIN,
    SharedTokenStorage,
    token_fingerprint,
    token_variable,
)
from sandbox.box.fixture import CLIENT_ID, ENTERPRISE_ID, box_fixture, campaign_folder
from tests.integration._box_fixtures import (  # noqa: F401 (a fixture)
    ITEMS_ROUTE,
    TOKEN_ROUTE,
    start_box_fixture,
)
from tests.integration.test_box_hook import jwt_app

BUNDLE = Path(__file__).parent / "box_token_dags"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
KEY = token_variable("box_default")
# Tokens made up here, never issued by any Box.
FAKE, OLD_FAKE, FAKE_OF_THIS_TASK = "a-token", "a-token-of-old", "a-token-of-this-task"
CAMPAIGN, MASTER = "123", "123-ma"
FIRST_RUN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_RUN_SLOTS = itertools.count()
MEMORY_ONLY = (
    "Not in an Airflow task: the Box token of connection box_default is kept in memory only"
)


@pytest.fixture(name="run_tasks")
def run_tasks_fixture(airflow_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable]:
    """Runs of the two-task DAG; Airflow has a fernet key, so Variables are stored encrypted."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.crypto import get_fernet

    bundles = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {"name": "box-token-tests", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(BUNDLE)}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", Fernet.generate_key().decode())
    get_fernet.cache_clear()
    bag = DagBag(dag_folder=str(BUNDLE))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("box_token_tasks")
    _delete_variable()  # a token of an earlier test's Box, maybe on the same port

    def run(**conf: Any) -> None:
        logical_date = FIRST_RUN + timedelta(minutes=next(_RUN_SLOTS))
        dag_run = dag.test(logical_date=logical_date, run_conf={"clear": False, **conf})
        assert dag_run.state == "success"

    yield run
    _delete_variable()
    get_fernet.cache_clear()


def _stored() -> Any:
    """The token Variable's row, as the metadata database holds it (None if absent)."""
    from airflow.models import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalar(select(Variable).where(Variable.key == KEY))
        if row is not None:
            session.expunge(row)
        return row


def _store(value: str) -> None:
    from airflow.models import Variable

    Variable.set(KEY, value)


def _delete_variable() -> None:
    from airflow.models import Variable

    Variable.delete(KEY)


def _shared(**fields: Any) -> str:
    return json.dumps({"token_type": "bearer", "expires_at": time.time() + 3600, **fields})


@pytest.mark.parametrize("auth", ["ccg", "jwt"])
def test_two_tasks_in_two_runs_make_one_token_request(run_tasks, start_box, auth):
    if auth == "jwt":
        client, jwt_config = jwt_app()
        box_part = box_fixture(campaign_folder(CAMPAIGN, assets=["a.jpg"]), clients=[client])
        box = start_box(box=box_part, jwt_config=json.dumps(jwt_config))
    else:
        box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))

    run_tasks()
    run_tasks()

    assert box.counters() == {TOKEN_ROUTE: 1, ITEMS_ROUTE: 4}
    row = _stored()
    shared = json.loads(row.val)
    assert shared["fingerprint"] == token_fingerprint(CLIENT_ID, ENTERPRISE_ID, None, box.url)
    assert 3500 < shared["expires_at"] - time.time() <= 3600
    token = shared["access_token"]
    assert row.is_encrypted and token not in row._val
    assert redact(f"Bearer {token}") == "Bearer ***"


def test_the_variable_is_masked_in_the_ui(run_tasks, start_box):
    from airflow.api_fastapi.core_api.datamodels.variables import VariableResponse

    start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    run_tasks()

    row = _stored()
    shown = VariableResponse(
        key=row.key,
        value=row.val,
        description=row.description,
        is_encrypted=row.is_encrypted,
        team_name=None,
    )
    assert should_hide_value_for_key(KEY)
    assert json.loads(row.val)["access_token"] not in shown.val
    assert "box_default" in row.description


@pytest.mark.parametrize(
    ("lifetime", "token_requests"), [(RENEW_MARGIN + 60, 1), (RENEW_MARGIN - 60, 2)]
)
def test_a_token_near_expiry_is_fetched_again(run_tasks, start_box, lifetime, token_requests):
    box = start_box(
        box=box_fixture(campaign_folder(CAMPAIGN, assets=["a.jpg"]), token_ttl=lifetime)
    )

    run_tasks()

    assert box.counters()[TOKEN_ROUTE] == token_requests
    assert json.loads(_stored().val)["expires_at"] - time.time() <= lifetime


def test_a_token_box_refuses_is_fetched_again_at_once_and_replaced(run_tasks, start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    run_tasks()
    refused = json.loads(_stored().val)["access_token"]

    box.control("POST", "tokens/expire")
    run_tasks()

    # The first task of the second run: refused, one token request, the same call again.
    assert box.counters() == {TOKEN_ROUTE: 2, ITEMS_ROUTE: 5}
    assert json.loads(_stored().val)["access_token"] != refused


def test_a_token_in_the_variable_is_used_and_masked(run_tasks, start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    token = box.token()
    fingerprint = token_fingerprint(CLIENT_ID, ENTERPRISE_ID, None, box.url)
    _store(_shared(access_token=token, fingerprint=fingerprint))
    box.reset_counters()
    assert redact(f"Bearer {token}") == f"Bearer {token}"

    run_tasks()

    assert box.counters() == {ITEMS_ROUTE: 2}
    assert redact(f"Bearer {token}") == "Bearer ***"


@pytest.mark.parametrize(
    "issued_for",
    [
        pytest.param(("another-app", ENTERPRISE_ID, None, None), id="another-app"),
        pytest.param((CLIENT_ID, "another-enterprise", None, None), id="another-subject"),
        pytest.param((CLIENT_ID, ENTERPRISE_ID, "11446498", None), id="a-user-subject"),
        pytest.param((CLIENT_ID, ENTERPRISE_ID, None, "https://api.box.com"), id="another-box"),
    ],
)
def test_a_token_of_another_app_subject_or_box_is_not_used(run_tasks, start_box, issued_for):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    token = box.token()  # valid here: only its fingerprint keeps it unused
    client_id, enterprise_id, user_id, base_url = issued_for
    fingerprint = token_fingerprint(client_id, enterprise_id, user_id, base_url or box.url)
    _store(_shared(access_token=token, fingerprint=fingerprint))
    box.reset_counters()

    run_tasks()

    assert box.counters() == {TOKEN_ROUTE: 1, ITEMS_ROUTE: 2}
    assert json.loads(_stored().val)["access_token"] != token


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        json.dumps({"access_token": OLD_FAKE}),
        _shared(access_token=None, fingerprint="ours"),
        _shared(access_token=FAKE, fingerprint="ours", expires_at="soon"),
        json.dumps({"access_token": FAKE, "fingerprint": "ours", "expires_at": 2e9}),
    ],
)
def test_a_variable_holding_no_token_of_ours_is_overwritten(run_tasks, start_box, value):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    fingerprint = token_fingerprint(CLIENT_ID, ENTERPRISE_ID, None, box.url)
    _store(value.replace('"ours"', json.dumps(fingerprint)))

    run_tasks()

    assert box.counters()[TOKEN_ROUTE] == 1
    assert json.loads(_stored().val)["fingerprint"] == fingerprint


def test_clear_forgets_the_token_in_the_variable(run_tasks, start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))

    run_tasks(clear=True)
    assert _stored() is None

    run_tasks()
    assert box.counters()[TOKEN_ROUTE] == 2
    assert _stored() is not None


def test_outside_a_task_each_hook_keeps_its_token_in_memory(start_box, caplog):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    caplog.set_level(logging.INFO, logger=box_token.__name__)
    hook = BoxHook()

    hook.list_master_assets(MASTER)
    hook.list_master_assets(MASTER)
    box.control("POST", "tokens/expire")
    hook.list_master_assets(MASTER)  # refused, fetched again, stored in memory
    assert box.counters()[TOKEN_ROUTE] == 2
    BoxHook().list_master_assets(MASTER)
    assert box.counters()[TOKEN_ROUTE] == 3

    noted = [r.getMessage() for r in caplog.records if r.name == box_token.__name__]
    assert noted == [MEMORY_ONLY, MEMORY_ONLY]  # once per hook
    token = hook.client.auth.token_storage.get().access_token
    assert redact(f"Bearer {token}") == "Bearer ***"


def test_outside_a_task_a_token_near_expiry_is_renewed_once_in_a_while(start_box, monkeypatch):
    box = start_box(
        box=box_fixture(campaign_folder(CAMPAIGN, assets=["a.jpg"]), token_ttl=RENEW_MARGIN - 60)
    )
    hook = BoxHook()
    hook.list_master_assets(MASTER)
    hook.list_master_assets(MASTER)  # renewed a moment ago: the old token still works
    assert box.counters()[TOKEN_ROUTE] == 1

    monkeypatch.setattr(box_token, "RENEW_INTERVAL", 0)
    hook.list_master_assets(MASTER)
    assert box.counters()[TOKEN_ROUTE] == 2


def test_outside_a_task_clear_forgets_the_token(start_box, caplog):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    caplog.set_level(logging.INFO, logger=box_token.__name__)
    storage = SharedTokenStorage("box_default", CLIENT_ID, ENTERPRISE_ID, None, box.url)

    storage.clear()
    assert caplog.messages == [MEMORY_ONLY]

    hook = BoxHook()
    hook.list_master_assets(MASTER)
    hook.client.auth.token_storage.clear()
    assert hook.client.auth.token_storage.get() is None
    hook.list_master_assets(MASTER)
    assert box.counters()[TOKEN_ROUTE] == 2


class _RefusingSupervisor:
    """A task's channel to its supervisor when the API server refuses Variable writes."""

    def send(self, msg: Any) -> Any:
        if isinstance(msg, GetVariable):
            return ErrorResponse(error=ErrorType.VARIABLE_NOT_FOUND, detail={"key": msg.key})
        if isinstance(msg, PutVariable | DeleteVariable):
            # What CommsDecoder raises for the supervisor's error frame.
            raise AirflowRuntimeError(ErrorResponse(error=ErrorType.API_SERVER_ERROR))
        return None


def test_a_variable_write_refused_in_a_task_keeps_the_token_in_memory(monkeypatch, caplog):
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", _RefusingSupervisor(), raising=False)
    storage = SharedTokenStorage("box_default", CLIENT_ID, ENTERPRISE_ID, None, None)
    token = AccessToken(access_token=FAKE_OF_THIS_TASK, expires_in=3600, token_type="bearer")

    assert storage.get() is None
    storage.store(token)
    assert storage.get() is token
    storage.clear()
    assert storage.get() is None

    refused = [r for r in caplog.records if r.name == box_token.__name__]
    assert [r.levelno for r in refused] == [logging.WARNING] * 2
    assert all("API_SERVER_ERROR" in r.getMessage() for r in refused)
