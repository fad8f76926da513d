"""Signing in to the DAM and out again, as the connection's `auth` says."""

from __future__ import annotations

from airflow.sdk.log import mask_secret

from campaigns.errors import CampaignError
from campaigns.hooks.dam.answers import read
from campaigns.hooks.dam.transport import DamError, DamTransport, dam_message, raise_for_status

OTDS_AUTHENTICATION = "otdsws/rest/authentication"
# Answers to a sign-out that say the site has none: the session ends when it expires.
NO_SIGN_OUT = (404, 405)


def sign_in(transport: DamTransport) -> None:
    """Sign in afresh; the session's headers (and cookie) then carry the credentials."""
    settings, session = transport.settings, transport.session
    session.cookies.clear()
    for header in ("Authorization", "X-Requested-By", "OTDSToken"):
        session.headers.pop(header, None)
    if settings.auth == "oauth2":
        form = {
            "grant_type": "password",
            "username": settings.login,
            "password": settings.password,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
        }
        response = transport.send("POST", "sessions/oauth2/token", data=form)
        raise_for_status(response)
        token = read(response, "sign-in", ("token_info", "oauth_token", "accessToken"), str)
        mask_secret(token)
        session.headers["Authorization"] = f"Bearer {token}"
        return
    if settings.auth == "otds":
        session.headers["OTDSToken"] = _otds_ticket(transport)
        response = transport.send("GET", "sessions")
    else:
        form = {"username": settings.login, "password": settings.password}
        response = transport.send("POST", "sessions", data=form)
    raise_for_status(response)
    session_id = str(read(response, "sign-in", ("session_resource", "session", "id"), str | int))
    mask_secret(session_id)
    if cookie := session.cookies.get("JSESSIONID"):
        mask_secret(cookie)
    session.headers["X-Requested-By"] = session_id


def _otds_ticket(transport: DamTransport) -> str:
    """A ticket from OTDS for the service account, for the OTMM resource where one is set."""
    settings = transport.settings
    credentials = {
        "userName": settings.login,
        "password": settings.password,
        "ticketType": "OTDSTICKET",
    }
    ticket = _otds(transport, "credentials", credentials)
    if settings.otds_resource_id:
        for_resource = {"ticket": ticket, "targetResourceId": settings.otds_resource_id}
        ticket = _otds(transport, "resource/ticketforresource", for_resource)
    return ticket


def _otds(transport: DamTransport, path: str, body: dict) -> str:
    """The ticket OTDS answers to `body` at `path`, masked; DamError saying what OTDS refused."""
    url = f"{transport.settings.otds_url.rstrip('/')}/{OTDS_AUTHENTICATION}/{path}"
    response = transport.send("POST", path, url=url, json=body)
    if response.status_code >= 400:
        raise DamError(
            f"OTDS at {url} answered {response.status_code}: {dam_message(response)}",
            response.status_code,
        )
    ticket = read(response, "OTDS sign-in", ("ticket",), str)
    mask_secret(ticket)
    return ticket


def sign_out(transport: DamTransport) -> None:
    """End the DAM session, where the sign-in opened one (OAuth2 holds a token, no session).

    A site without sign-out, or a session expired already, is only noted; a failure is logged.
    """
    log = transport.log
    if "X-Requested-By" not in transport.session.headers:
        return
    try:
        response = transport.send("DELETE", "sessions")
    except CampaignError as error:
        log.warning("Could not sign out of the DAM: %s", error)
        return
    status = response.status_code
    if status in NO_SIGN_OUT:
        log.info(
            "The DAM has no sign-out (it answered %d); the session ends when it expires", status
        )
    elif status == 401:
        log.info("The DAM session had expired before the sign-out")
    elif status >= 400:
        log.warning(
            "Could not sign out of the DAM: it answered %d: %s", status, dam_message(response)
        )
