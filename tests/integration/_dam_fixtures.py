"""The DAM sandbox, its control API and DamHook connections, for the integration tests."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from campaigns.hooks.dam import DamHook
from sandbox.connections import dam_connection
from sandbox.dam.app import create_app
from sandbox.server import RunningServer, run_in_thread


def dam_hook(
    monkeypatch: Any,
    url: str,
    *,
    conn_id: str = "dam_default",
    password: str | None = None,
    **extra: Any,
) -> DamHook:
    """A DamHook whose connection, set in the environment, points at `url`."""
    connection = dam_connection(url, **extra)
    if password is not None:
        connection["password"] = password
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
    return DamHook(conn_id)


def start_dam_server(
    dam: dict, extras: dict[str, Any] | None = None, **uvicorn_options: Any
) -> DamSandbox:
    """A DAM sandbox serving `dam` (a `fixture.dam(...)` value) on 127.0.0.1; `extras` are the
    connection extras its site variant needs (`fixture.VARIANTS`)."""
    server = run_in_thread(create_app({"dam": dam}), **uvicorn_options)
    verify = uvicorn_options.get("ssl_ca_certs", True)
    return DamSandbox(server, dam, extras or {}, verify=verify)


class DamSandbox:
    """The running sandbox's URL, its `dam` part, the connection extras its variant needs (both
    as started) and its control API."""

    def __init__(
        self, server: RunningServer, dam: dict, extras: dict[str, Any], verify: bool | str = True
    ):
        self.server = server
        self.url = server.url
        self.dam = dam
        self.extras = extras
        self._http = requests.Session()
        self._verify = verify

    def stop(self) -> None:
        self._http.close()
        self.server.stop()

    def counters(self) -> dict[str, int]:
        return self._control("GET", "counters").json()

    def count(self, method: str, route: str) -> int:
        return self.counters().get(f"{method} /otmmapi/{{version}}/{route}", 0)

    def otds_count(self, route: str) -> int:
        return self.counters().get(f"POST /otdsws/rest/authentication/{route}", 0)

    def sign_ins(self) -> int:
        """Sessions opened: OTDS opens them with GET /sessions, the others with POST."""
        return self.count("GET" if self.extras.get("auth") == "otds" else "POST", "sessions")

    def reset_counters(self) -> None:
        self._control("POST", "counters/reset")

    def open_sessions(self) -> int:
        return self._control("GET", "sessions").json()["open"]

    def delay_imports(self, seconds: float) -> None:
        self._control("PUT", "imports/delay", json={"seconds": seconds})

    def add_faults(self, method: str, route: str, statuses: list[int], **script: Any) -> None:
        key = f"{method} /otmmapi/{{version}}/{route}"
        self._control("POST", "faults", json={"route": key, "statuses": statuses, **script})

    def campaign(self, campaign_id: str) -> dict:
        return self._control("GET", f"campaigns/{quote(campaign_id, safe='')}").json()

    def set_status(self, campaign_id: str, status: str) -> None:
        self._control(
            "PUT", f"campaigns/{quote(campaign_id, safe='')}/status", json={"status": status}
        )

    def set_lock(self, campaign_id: str, user: str | None) -> None:
        self._control("PUT", f"campaigns/{quote(campaign_id, safe='')}/lock", json={"user": user})

    def remove(self, campaign_id: str) -> None:
        self._control("DELETE", f"campaigns/{quote(campaign_id, safe='')}")

    def expire_sessions(self, after_requests: int = 0) -> None:
        self._control("POST", "sessions/expire", json={"after_requests": after_requests})

    def _control(self, method: str, path: str, **request: Any) -> requests.Response:
        response = self._http.request(
            method, f"{self.url}/_sandbox/{path}", timeout=10, verify=self._verify, **request
        )
        response.raise_for_status()
        return response


class TlsFiles:
    """A private CA, a server certificate for 127.0.0.1 and a client certificate, on disk."""

    CLIENT_PASSWORD = "client-cert-password"

    def __init__(self, directory: Path):
        self.ca_key, self.ca_cert = _certificate("sandbox test CA", None, ca=True)
        server_key, server_cert = _certificate("127.0.0.1", (self.ca_key, self.ca_cert))
        client_key, client_cert = _certificate("a1-to-a2 client", (self.ca_key, self.ca_cert))
        password = self.CLIENT_PASSWORD.encode()
        self.ca = _write(directory / "ca.pem", _pem(self.ca_cert))
        self.server_cert = _write(directory / "server.pem", _pem(server_cert))
        self.server_key = _write(directory / "server-key.pem", _key_pem(server_key, None))
        self.client_p12 = _write(
            directory / "client.p12",
            pkcs12.serialize_key_and_certificates(
                b"client",
                client_key,
                client_cert,
                [self.ca_cert],
                serialization.BestAvailableEncryption(password),
            ),
        )
        self.client_pem = _write(
            directory / "client.pem", _pem(client_cert) + _key_pem(client_key, password)
        )

    def server_options(self, require_client_cert: bool = True) -> dict:
        return {
            "ssl_certfile": self.server_cert,
            "ssl_keyfile": self.server_key,
            "ssl_ca_certs": self.ca,
            "ssl_cert_reqs": ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE,
        }


def _certificate(
    common_name: str, issuer: tuple[Any, x509.Certificate] | None, ca: bool = False
) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_key, issuer_name = (key, name) if issuer is None else (issuer[0], issuer[1].subject)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return key, builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Any, password: bytes | None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)
