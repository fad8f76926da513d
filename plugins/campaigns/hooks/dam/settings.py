"""The DAM connection read once into a typed value: its host, sign-in and extras."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from campaigns.connection_fields import DAM, ConnectionSettingError


@dataclass(frozen=True)
class DamSettings:
    """The DAM connection, read once; extras and defaults as `connection_fields.DAM` declares."""

    conn_id: str
    base_url: str
    login: str
    password: str = field(repr=False)
    auth: str
    status_field: str
    number_field: str
    box_folder_field: str
    metadata_model_id: str | None
    security_policy_ids: tuple[str, ...]
    import_template_id: str | None
    search_operator_id: str
    search_config_id: str | None
    otds_url: str | None
    otds_resource_id: str | None
    client_id: str | None
    client_secret: str | None = field(repr=False)
    client_cert: str | None
    client_cert_password: str | None = field(repr=False)
    verify: bool | str
    api_version: str
    page_size: int
    lost_import_looks: int
    search_rereads: int
    timeout: float | tuple[float, float]
    max_attempts: int
    backoff: float

    @classmethod
    def from_connection(cls, conn: Any) -> DamSettings:
        """The connection's settings; ConnectionSettingError names the extra to fix."""
        values = DAM.read(conn.conn_id, conn.extra_dejson)
        if not values["import_template_id"]:
            for name in ("metadata_model_id", "security_policy_ids"):
                if not values[name]:
                    raise ConnectionSettingError(
                        "DAM",
                        conn.conn_id,
                        name,
                        "is missing: imports need the metadata model and the security policies "
                        "(or an import_template_id that supplies them)",
                    )
        return cls(
            conn_id=conn.conn_id,
            base_url=_base_url(conn),
            login=conn.login or "",
            password=conn.password or "",
            **values,
        )


def _base_url(conn: Any) -> str:
    """The OTMM URL: the host as given (a URL or a name), with the port unless the URL has one."""
    host = (conn.host or "").rstrip("/")
    url = urlsplit(host if "://" in host else f"{conn.schema or 'https'}://{host}")
    if conn.port and url.port is None:
        url = url._replace(netloc=f"{url.netloc}:{conn.port}")
    return urlunsplit(url)
