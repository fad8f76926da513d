"""``python -m campaigns.check_dam``: a read-only check of a live DAM, saying which extras to set.

It signs in with the connection, reads one search page for the status, one campaign folder and
its children, and signs out; it never locks, edits or imports. Exit code 0: nothing to fix;
1: something to set or an answer it could not read; 2: it could not sign in or reach the DAM.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any
from urllib.parse import urlencode

import requests
from airflow.sdk.exceptions import AirflowNotFoundException
from airflow.sdk.log import configure_logging

from campaigns.connection_fields import ConnectionSettingError
from campaigns.dam_findings import (
    SET,
    Answer,
    DamAnswers,
    Finding,
    Report,
    findings,
    sample,
    settings_problem,
    unknown_extras,
)
from campaigns.errors import CampaignError, FolderError
from campaigns.hooks.dam import DamError, DamHook
from campaigns.hooks.dam.answers import json_of
from campaigns.hooks.dam.hook import FOLDER
from campaigns.hooks.dam.transport import dam_message
from campaigns.hooks.wire import path_segment


def check(hook: DamHook, status: str = "A1", campaign_id: str | None = None) -> Report:
    """What the hook's connection and its DAM look like to the pipeline; changes nothing.

    It reads the folder of `campaign_id`, or else of the first campaign the search finds.
    """
    conn_id = hook.dam_conn_id
    try:
        extra = hook.get_connection(conn_id).extra_dejson
    except AirflowNotFoundException as error:
        return Report(conn_id, status, [Finding("connection", SET, str(error))], signed_in=False)
    typos = unknown_extras(extra)
    try:
        settings = hook.settings
    except ConnectionSettingError as error:
        return Report(conn_id, status, [settings_problem(error), *typos])
    answers = read_dam(hook, status, campaign_id)
    found = findings(settings, status, answers, campaign_id)
    return Report(conn_id, status, [*found, *typos], signed_in=answers.sign_in.problem is None)


def read_dam(hook: DamHook, status: str, campaign_id: str | None = None) -> DamAnswers:
    """Sign in, read one search page, one campaign folder and its children, sign out."""
    request = f"sign-in ({hook.settings.auth})"
    try:
        hook._sign_in()
    except CampaignError as error:
        hook.transport.close()
        return DamAnswers(sign_in=_failed(request, error))
    try:
        answers = _read_campaign(hook, status, campaign_id, Answer(request))
    finally:
        signed_out = _sign_out(hook)
    return dataclasses.replace(answers, sign_out=signed_out)


def _read_campaign(
    hook: DamHook, status: str, campaign_id: str | None, signed_in: Answer
) -> DamAnswers:
    """One search page, then one campaign folder with the first page of its children."""
    search = _ask(
        hook, "search", "POST", "search/text", data={**hook.search_form(status), "after": 0}
    )
    read = sample(search, campaign_id)
    if read is None:
        return DamAnswers(signed_in, search)
    folder_path = f"folders/{path_segment(read.campaign_id, FOLDER)}"
    folder = _ask(hook, "folder", "GET", folder_path, params={"load_type": "metadata"})
    children = _ask(
        hook,
        "folder children",
        "GET",
        f"{folder_path}/children",
        params={"load_type": "metadata", "after": 0, "limit": hook.settings.page_size},
    )
    return DamAnswers(signed_in, search, folder, children)


def _ask(hook: DamHook, what: str, method: str, path: str, **request: Any) -> Answer:
    """One signed-in request (signing in again once on 401) and its JSON, or what went wrong."""
    params = request.get("params")
    shown = f"{method} {path}" + (f"?{urlencode(params)}" if params else "")
    try:
        response = hook._call(method, path, **request)
    except CampaignError as error:
        return _failed(shown, error)
    try:
        return Answer(shown, body=json_of(response, what), status=response.status_code)
    except DamError as error:
        return Answer(shown, status=response.status_code, problem=str(error), unreadable=True)


def _failed(request: str, error: CampaignError) -> Answer:
    """A request that got no usable answer: refused (a status), unreachable, or unreadable."""
    status = getattr(error, "status", None)
    tls = isinstance(error.__cause__, requests.exceptions.SSLError)
    unreadable = isinstance(error, DamError) and status is None and not tls
    return Answer(request, status=status, problem=str(error), unreadable=unreadable)


def _sign_out(hook: DamHook) -> Answer | None:
    """End the sign-in's session (None: it opened none, as OAuth2); the transport is closed."""
    transport = hook.transport
    try:
        if "X-Requested-By" not in transport.session.headers:
            return None
        response = transport.send("DELETE", "sessions")
    except CampaignError as error:
        return _failed("DELETE sessions", error)
    finally:
        transport.close()
        hook._signed_in = False
    if response.status_code < 300:
        return Answer("DELETE sessions", status=response.status_code)
    problem = f"answered {response.status_code}: {dam_message(response)}"
    return Answer("DELETE sessions", status=response.status_code, problem=problem)


def main(argv: list[str] | None = None) -> int:
    """Check the DAM connection, print the findings; the exit code says what to do."""
    parser = argparse.ArgumentParser(prog="python -m campaigns.check_dam", description=__doc__)
    parser.add_argument(
        "--conn-id",
        default=DamHook.default_conn_name,
        help="Airflow connection of the DAM (default: %(default)s)",
    )
    parser.add_argument(
        "--status", default="A1", help="the campaign status to search for (default: %(default)s)"
    )
    parser.add_argument(
        "--campaign-id",
        type=_folder_id,
        help="the DAM id of a campaign folder to read (default: the first the search finds)",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args(argv)
    report = check(DamHook(args.conn_id), args.status, args.campaign_id)
    print(report.as_json() if args.json else report.text())
    return report.exit_code


def _folder_id(text: str) -> str:
    try:
        path_segment(text, FOLDER)
    except FolderError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


if __name__ == "__main__":
    # The findings alone on stdout (JSON with --json); Airflow's and the hook's logs on stderr.
    configure_logging(output=sys.stderr)
    sys.exit(main())
