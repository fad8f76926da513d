"""The DAM and Box connection types in Admin → Connections, in a headless Chromium.

One cluster with Airflow's Test button enabled, and a DAM sandbox: the add form offers both types
with their fields; an OTMM connection filled in the form reads back typed through the REST API,
and its Test button answers for the right password and for a wrong one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import requests
import test_campaigns_page
from playwright.sync_api import Browser, Locator, Page, expect
from test_campaigns_page import _rest, sign_in

from campaigns.connection_fields import BOX, DAM
from sandbox.dam import fixture
from sandbox.dam.app import create_app
from sandbox.server import RunningServer, run_in_thread
from tests.e2e.cluster import AirflowCluster, airflow_cluster

pytestmark = pytest.mark.slow
# The campaigns page tests' headless Chromium, for this module too.
browser = test_campaigns_page.browser

# What the operator types into the OTMM form, by field label, and what lands in the extras.
FORM = {
    "Status field id": fixture.STATUS_FIELD,
    "Campaign number field id": fixture.NUMBER_FIELD,
    "Box folder id field id": fixture.BOX_FOLDER_FIELD,
    "Metadata model id": fixture.MODEL_ID,
    "Security policy ids": ", ".join(fixture.SECURITY_POLICY_IDS),
    "Page size": "25",
    "Timeout (seconds)": "5, 30",
    "Attempts per request": "2",
}
SAVED = {
    "auth": "session",
    "status_field": fixture.STATUS_FIELD,
    "number_field": fixture.NUMBER_FIELD,
    "box_folder_field": fixture.BOX_FOLDER_FIELD,
    "metadata_model_id": fixture.MODEL_ID,
    "security_policy_ids": "1, 42",
    "page_size": 25,
    "timeout": "5, 30",
    "max_attempts": 2,
}


@pytest.fixture(scope="module")
def dam() -> Iterator[RunningServer]:
    """A DAM that has a sign-out, with one campaign at A1 for the Test button's check to find."""
    campaigns = [fixture.campaign("c-1", "Spring", number="CMP-1", box_folder_id="box-1")]
    with run_in_thread(create_app({"dam": fixture.dam(campaigns, sign_out=True)})) as server:
        yield server


@pytest.fixture(scope="module")
def cluster() -> Iterator[AirflowCluster]:
    with airflow_cluster(env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}) as cluster:
        yield cluster


def open_add_form(page: Page, cluster: AirflowCluster) -> Locator:
    """Admin -> Connections' add dialog, its connection types listed."""
    page.goto(f"{cluster.url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox").click()
    return dialog


def choose(dialog: Locator, option: str) -> None:
    """Pick ``option`` in the select list open in the dialog."""
    dialog.get_by_role("option", name=option, exact=True).click()


def extra_field(dialog: Locator, label: str) -> Locator:
    """An extra's input by its label (a required one's ends in "*"): Airflow's form does not tie
    the two together, so find the field group holding the label."""
    name = dialog.page.locator("label").filter(has_text=re.compile(rf"^{re.escape(label)}\s*\*?$"))
    return dialog.get_by_role("group").filter(has=name).locator("input:not([type=hidden])")


def test_the_form_offers_both_connection_types_with_their_fields(cluster, browser: Browser):
    page = sign_in(browser, cluster, "admin")
    dialog = open_add_form(page, cluster)
    names = dialog.get_by_role("option").all_text_contents()
    assert {DAM.hook_name, BOX.hook_name} <= set(names), names

    choose(dialog, BOX.hook_name)
    for title in BOX.relabeling.values():
        expect(dialog.get_by_label(title, exact=True)).to_be_visible()
    expect(dialog.get_by_label("Host", exact=True)).to_have_count(0)
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    for extra in BOX.extras:
        expect(extra_field(dialog, extra.label)).to_be_visible()
    page.context.close()


def test_an_otmm_connection_from_the_form_is_saved_typed_and_its_test_answers(
    cluster, browser: Browser, dam: RunningServer, tmp_path
):
    page = sign_in(browser, cluster, "admin")
    dialog = open_add_form(page, cluster)
    choose(dialog, DAM.hook_name)
    dialog.get_by_label("Connection ID").fill("dam_form")
    dam_port = dam.url.rsplit(":", 1)[1]
    dialog.get_by_label("OTMM URL").fill(dam.url)
    dialog.get_by_label("OTMM port").fill(dam_port)
    dialog.get_by_label("User", exact=True).fill(fixture.USER)
    dialog.get_by_label("Password", exact=True).fill(fixture.PASSWORD)
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    save = dialog.get_by_role("button", name="Save")
    # The field ids are required: the form refuses to save without them.
    expect(dialog.get_by_text("This field is required")).to_have_count(3)
    expect(save).to_be_disabled()
    extra_field(dialog, "Sign-in method").click()
    choose(dialog, "session")
    for label, value in FORM.items():
        extra_field(dialog, label).fill(value)
    expect(dialog.get_by_text("This field is required")).to_have_count(0)
    page.screenshot(path=tmp_path / "otmm-form.png", full_page=True)
    save.click()
    row = page.get_by_role("row").filter(has_text="dam_form")
    expect(row).to_be_visible()

    saved = _rest(cluster, "GET", "connections/dam_form").json()
    assert (saved["conn_type"], saved["host"], saved["port"], saved["login"]) == (
        DAM.conn_type,
        dam.url,
        int(dam_port),
        fixture.USER,
    )
    extra = json.loads(saved["extra"])
    assert set(extra) == {item.name for item in DAM.extras}
    assert {name: extra[name] for name in SAVED} == SAVED
    assert type(extra["page_size"]) is int
    read = DAM.read("dam_form", extra)
    assert read["security_policy_ids"] == fixture.SECURITY_POLICY_IDS
    assert (read["page_size"], read["timeout"], read["max_attempts"]) == (25, (5.0, 30.0), 2)
    assert DAM.unknown(extra) == []

    row.get_by_role("button", name="Test Connection").click()
    expect(toast(page, "Test Connection Successful")).to_be_visible()
    # Read only, and signed out again.
    asked = requests.get(f"{dam.url}/_sandbox/counters", timeout=30).json()
    assert [
        call
        for call in asked
        if call.startswith(("PUT", "PATCH", "POST /otmmapi/{version}/assets"))
    ] == []
    assert requests.get(f"{dam.url}/_sandbox/sessions", timeout=30).json() == {"open": 0}

    row.get_by_role("button", name="Edit Connection").click()
    page.get_by_role("dialog").get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    row.get_by_role("button", name="Test Connection").click()
    failed = toast(page, "Test Connection Failed")
    expect(failed).to_contain_text("401: Invalid user name or password")
    page.screenshot(path=tmp_path / "otmm-test-failed.png")
    page.context.close()


def toast(page: Page, title: str) -> Locator:
    """The notification the UI shows with ``title``."""
    return page.locator("[data-scope=toast][data-part=root]").filter(has_text=title)
