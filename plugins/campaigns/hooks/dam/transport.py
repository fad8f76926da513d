"""The DAM's HTTP transport: TLS, the client certificate, retries with backoff, error statuses."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import time
import weakref
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from campaigns import metrics
from campaigns.errors import FolderError, NotRetryable, StatusChangeRefused, TransientError
from campaigns.hooks.dam.settings import DamSettings


class DamError(NotRetryable):
    """A DAM failure that is neither passing nor about one campaign's folder (TLS, refusals)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AnswerLost(TransientError):
    """A request that may have reached the DAM, its answer lost: sending it again may repeat it."""


class DamTransport:
    """One HTTP session to the DAM with the connection's TLS settings; not signed in."""

    def __init__(self, settings: DamSettings, log: logging.Logger):
        self.settings = settings
        self.log = log

    @cached_property
    def session(self) -> requests.Session:
        settings = self.settings
        session = requests.Session()
        if settings.verify is False:
            self.log.warning(
                "TLS verification of the DAM at %s is off (connection %s)",
                settings.base_url,
                settings.conn_id,
            )
        if settings.client_cert:
            cert_file, key_password = _client_certificate(
                settings.client_cert, settings.client_cert_password
            )
            weakref.finalize(session, os.unlink, cert_file)
            session.cert = cert_file
            session.mount("https://", _KeyPasswordAdapter(key_password))
        return session

    @property
    def opened(self) -> bool:
        return "session" in self.__dict__

    def close(self) -> None:
        if self.opened:
            self.__dict__.pop("session").close()

    def api_url(self, path: str) -> str:
        return f"{self.settings.base_url}/otmmapi/{self.settings.api_version}/{path}"

    def send(
        self,
        method: str,
        path: str,
        *,
        data: Any = None,
        url: str | None = None,
        resend: bool = True,
        **request: Any,
    ) -> requests.Response:
        """One DAM call, retried with backoff on 429, 5xx, timeouts and refused connections.

        With `resend` False, a failure after the request may have reached the DAM (a timeout
        waiting for the answer, a dropped connection, a 5xx) raises AnswerLost instead.
        """
        settings = self.settings
        url = url or self.api_url(path)
        attempt = 0
        while True:
            attempt += 1
            metrics.DAM_CALLS.send()
            try:
                response = self.session.request(
                    method,
                    url,
                    data=data() if callable(data) else data,
                    timeout=settings.timeout,
                    # Given per request: a session's own `verify` loses to REQUESTS_CA_BUNDLE.
                    verify=settings.verify,
                    **request,
                )
            except requests.exceptions.SSLError as error:
                raise DamError(f"TLS with the DAM at {url} failed: {error}") from error
            except (requests.ConnectionError, requests.Timeout) as error:
                problem, wait = f"{type(error).__name__}: {error}", None
                reached = not _not_connected(error)
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = f"answered {response.status_code}: {dam_message(response)}"
                wait = _retry_after(response.headers.get("Retry-After"))
                # A gateway's 502 or 504, or a 500, may come after the DAM did the work.
                reached = response.status_code != 429
            if reached and not resend:
                raise AnswerLost(f"DAM {method} {path} {problem}")
            if attempt >= settings.max_attempts:
                raise TransientError(f"DAM {method} {path} failed {attempt} times; {problem}")
            delay = settings.backoff * 2 ** (attempt - 1) if wait is None else wait
            self.log.warning("DAM %s %s %s; retrying in %.2f s", method, path, problem, delay)
            time.sleep(delay)


def raise_for_status(response: requests.Response, folder_id: str | None = None) -> None:
    """The DAM's error status as this package's errors: folder errors name the folder."""
    status = response.status_code
    if status < 400:
        return
    if folder_id is not None and status == 404:
        raise FolderError(f"Campaign folder {folder_id} not found in the DAM")
    if folder_id is not None and status == 403:
        raise FolderError(f"No access to campaign folder {folder_id} in the DAM")
    if status in (409, 423):
        raise StatusChangeRefused(f"the DAM refused the change: {dam_message(response)}")
    raise DamError(f"the DAM answered {status}: {dam_message(response)}", status)


def dam_message(response: requests.Response) -> str:
    """The message of the DAM's `exception_body`, or the start of the answer."""
    try:
        return str(response.json()["exception_body"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason


def _not_connected(error: requests.RequestException) -> bool:
    """Whether a request failed before it went out: no connection could be made."""
    cause = error.args[0] if error.args else None
    return isinstance(error, requests.ConnectTimeout) or isinstance(
        getattr(cause, "reason", None), NewConnectionError
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class _KeyPasswordAdapter(HTTPAdapter):
    """Opens the client certificate's key with its password."""

    def __init__(self, key_password: str):
        self._key_password = key_password
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, key_password=self._key_password, **kwargs)


def _client_certificate(path: str, password: str | None) -> tuple[str, str]:
    """The client certificate (PKCS#12 or PEM) as a private PEM file, its key under a new secret."""
    data = Path(path).read_bytes()
    secret = password.encode() if password else None
    if b"-----BEGIN" in data:
        key = serialization.load_pem_private_key(data, secret)
        certificates = x509.load_pem_x509_certificates(data)
    else:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, secret)
        certificates = [certificate, *chain]
    key_password = secrets.token_urlsafe(32)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_password.encode()),
    ) + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    handle, cert_file = tempfile.mkstemp(prefix="dam-client-cert-", suffix=".pem")
    with os.fdopen(handle, "wb") as file:
        file.write(pem)
    return cert_file, key_password
