"""Signing in to the DAM and out again, as the connection's `auth` says."""

from __future__ import annotations

from airflow.sdk.log import mask_secret

from campaigns.errors import CampaignError
from campaigns.hooks.dam.answers import read
from campaigns.hooks.dam.transport import DamTransport, raise_for_status


def sign_in(transport: DamTransport) -> None:
    """Sign in afresh; the session's headers (and cookie) then carry the credentials."""
    settings, session = transport.settings, transport.session
    session.cookies.clear()
    session.headers.pop("Authorization", None)
    session.headers.pop("X-Requested-By", None)
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
    form = {"username": settings.login, "password": settings.password}
    response = transport.send("POST", "sessions", data=form)
    raise_for_status(response)
    session_id = str(read(response, "sign-in", ("session_resource", "session", "id"), str | int))
    mask_secret(session_id)
    if cookie := session.cookies.get("JSESSIONID"):
        mask_secret(cookie)
    session.headers["X-Requested-By"] = session_id


def sign_out(transport: DamTransport) -> None:
    """End the session, where the sign-in made one; a failure is only logged."""
    if transport.settings.auth != "session":
        return
    try:
        transport.send("DELETE", "sessions")
    except CampaignError as error:
        transport.log.warning("Could not sign out of the DAM: %s", error)
