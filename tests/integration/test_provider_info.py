"""The package as an installed Airflow provider: its info, its entry point, the forms Airflow's API
serves from it without importing the hooks, and DAM connections of the older ``http`` type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import airflow
import pytest
from jsonschema import Draft7Validator
from packaging.utils import canonicalize_name

from campaigns.connection_fields import BOX, DAM
from campaigns.hooks.dam import DamHook
from campaigns.provider import get_provider_info
from sandbox.connections import dam_connection
from sandbox.dam import fixture
from sandbox.dam.app import create_app
from sandbox.server import RunningServer, run_in_thread

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
DISTRIBUTION = canonicalize_name(PYPROJECT["project"]["name"])
# Run where neither the repository nor pytest's pythonpath is on sys.path: only the installed
# distribution can make `campaigns` importable there. Prints what Airflow's UI reads.
HOOK_META = """
import json, sys
import campaigns  # before Airflow, which puts its plugins folder on sys.path
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
from airflow.providers_manager import ProvidersManager

types = {m.connection_type: m.model_dump() for m in HookMetaService.hook_meta_data()}
print(json.dumps({
    "campaigns": campaigns.__file__,
    "providers": {name: info.data for name, info in ProvidersManager().providers.items()},
    "types": {name: types.get(name) for name in ("otmm", "box")},
    "hooks_imported": sorted(m for m in sys.modules if m.startswith("campaigns.hooks")),
}))
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict:
    """What a fresh Python process of the test venv finds: the package, providers, UI forms."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", HOOK_META],
        env={**env, "AIRFLOW_HOME": str(home)},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_provider_info_is_valid_for_airflow_and_named_as_the_distribution():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    Draft7Validator(schema).validate(info)
    assert info["package-name"] == DISTRIBUTION
    assert info["connection-types"] == [DAM.provider_entry(), BOX.provider_entry()]


def test_the_provider_module_imports_nothing_but_the_connection_fields():
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, campaigns.provider; print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('campaigns', 'airflow', 'requests'))))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(shown.stdout) == [
        "campaigns",
        "campaigns.connection_fields",
        "campaigns.errors",
        "campaigns.provider",
    ]


def test_the_distribution_is_installed_editable_with_the_provider_entry_point(served):
    [entry] = [
        entry
        for entry in metadata.entry_points(group="apache_airflow_provider")
        if canonicalize_name(entry.dist.name) == DISTRIBUTION
    ]
    assert entry.value == "campaigns.provider:get_provider_info"
    # Editable: the package a fresh process imports is plugins/campaigns itself, not a copy.
    assert Path(served["campaigns"]) == REPO / "plugins" / "campaigns" / "__init__.py"
    assert served["providers"][DISTRIBUTION]["connection-types"] == json.loads(
        json.dumps(get_provider_info()["connection-types"])
    )


@pytest.mark.parametrize("declared", [DAM, BOX], ids=lambda declared: declared.conn_type)
def test_airflows_ui_gets_each_connection_type_and_its_fields_without_the_hooks(served, declared):
    meta = served["types"][declared.conn_type]
    assert meta["hook_name"] == declared.hook_name
    assert meta["hook_class_name"] == declared.hook_class
    # The API calls the standard field "schema" url_schema.
    standard = {
        {"url_schema": "schema"}.get(name, name): field
        for name, field in meta["standard_fields"].items()
    }
    for name, title in declared.relabeling.items():
        assert standard[name]["title"] == title
    for name in declared.hidden:
        assert standard[name]["hidden"] is True
    for name, placeholder in declared.placeholders.items():
        assert standard[name]["placeholder"] == placeholder
    fields = meta["extra_fields"]
    assert list(fields) == [extra.name for extra in declared.extras]
    for extra in declared.extras:
        assert fields[extra.name]["schema"]["title"] == extra.label
        assert fields[extra.name]["description"].lower().startswith(extra.help.lower())
    assert served["hooks_imported"] == []


def test_the_dam_form_shows_the_port_and_marks_the_field_ids_required(served):
    meta = served["types"]["otmm"]
    assert meta["standard_fields"]["port"] == {
        "hidden": False,
        "title": "OTMM port",
        "placeholder": "443",
    }
    required = {
        name
        for name, field in meta["extra_fields"].items()
        if "null" not in field["schema"]["type"]
    }
    assert required == {"status_field", "number_field", "box_folder_field"}
    status = meta["extra_fields"]["status_field"]["description"]
    assert status.endswith("Example: ACME.FIELD.CAMPAIGN STATUS")


@pytest.fixture(scope="module")
def dam_sandbox() -> Iterator[RunningServer]:
    campaigns = [fixture.campaign("c-1", "Spring", number="CMP-1", box_folder_id="box-1")]
    with run_in_thread(create_app({"dam": fixture.dam(campaigns)})) as server:
        yield server


def test_a_dam_connection_of_the_older_http_type_still_works(dam_sandbox, monkeypatch):
    legacy = {**dam_connection(dam_sandbox.url), "conn_type": "http"}
    monkeypatch.setenv("AIRFLOW_CONN_DAM_LEGACY", json.dumps(legacy))
    with DamHook("dam_legacy") as hook:
        found = hook.get_campaigns("A1")
    assert [(c.campaign_id, c.number, c.box_folder_id) for c in found.campaigns] == [
        ("c-1", "CMP-1", "box-1")
    ]
    assert hook.get_connection("dam_legacy").conn_type == "http"
