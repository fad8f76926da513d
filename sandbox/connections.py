"""Airflow connections (as the JSON of ``AIRFLOW_CONN_*``) pointing at running sandboxes."""

from __future__ import annotations

from typing import Any

from sandbox.box import fixture as box
from sandbox.dam import fixture as dam


def box_connection(url: str, **extras: Any) -> dict[str, Any]:
    """CCG with the sandbox's client; short retry backoff unless ``extras`` say otherwise."""
    return {
        "conn_type": "box",
        "login": box.CLIENT_ID,
        "password": box.CLIENT_SECRET,
        "extra": {
            "enterprise_id": box.ENTERPRISE_ID,
            "base_url": url,
            "upload_url": f"{url}/api",
            "oauth2_url": f"{url}/oauth2",
            "max_attempts": 3,
            "retry_base_interval": 0.01,
            "timeout": 10,
            **extras,
        },
    }


def dam_connection(url: str, **extras: Any) -> dict[str, Any]:
    """Session sign-in with the sandbox's user and its field ids, imports with the site's model
    and policies (the strict site, the sandbox's default); short retry backoff.

    ``extras`` are a variant's (``sandbox.dam.fixture.VARIANTS``) or a test's; with auth otds,
    OTDS is the sandbox itself unless ``otds_url`` says otherwise.
    """
    extra = {
        "status_field": dam.STATUS_FIELD,
        "number_field": dam.NUMBER_FIELD,
        "box_folder_field": dam.BOX_FOLDER_FIELD,
        "metadata_model_id": dam.MODEL_ID,
        "security_policy_ids": list(dam.SECURITY_POLICY_IDS),
        "max_attempts": 3,
        "backoff": 0.01,
        "timeout": 10,
        **extras,
    }
    if extra.get("auth") == "otds":
        extra.setdefault("otds_url", url)
    return {
        "conn_type": "otmm",
        "host": url,
        "login": dam.USER,
        "password": dam.PASSWORD,
        "extra": extra,
    }


def smtp_connection(host: str, port: int, sender: str = "a1-to-a2@example.com") -> dict[str, Any]:
    """A plain SMTP server (no SSL, no STARTTLS), as a local mail catcher is."""
    return {
        "conn_type": "smtp",
        "host": host,
        "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": sender, "timeout": 10},
    }
