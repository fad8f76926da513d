"""One Box access token for every task and run: kept in an Airflow Variable until near expiry."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable

from airflow.sdk import Variable
from airflow.sdk.exceptions import AirflowRuntimeError
from airflow.sdk.log import mask_secret
from box_sdk_gen import AccessToken, BaseUrls
from box_sdk_gen.box.token_storage import TokenStorage

# "token" in the key: Airflow masks the value in the UI and in logs (should_hide_value_for_key).
VARIABLE_PREFIX = "a1_to_a2_box_token_"
# Fetched again this long before Box's expiry, so that no call is spent on a refused token.
RENEW_MARGIN = 5 * 60
# While the old token still works, one caller in this many seconds fetches its successor.
RENEW_INTERVAL = 30
DESCRIPTION = (
    "Box access token of connection {conn_id}, shared by every task until near expiry; "
    "delete it to have the next task fetch another."
)

log = logging.getLogger(__name__)


def token_variable(conn_id: str) -> str:
    """The Variable holding the shared token of Box connection ``conn_id``."""
    return f"{VARIABLE_PREFIX}{conn_id}"


def token_fingerprint(
    client_id: str | None, enterprise_id: str | None, user_id: str | None, base_url: str | None
) -> str:
    """Names the app, subject and Box endpoint a token is for, without showing them."""
    issued_for = json.dumps([client_id, enterprise_id, user_id, base_url or BaseUrls().base_url])
    return hashlib.sha256(issued_for.encode()).hexdigest()[:16]


class SharedTokenStorage(TokenStorage):
    """boxsdk's token storage for one hook, shared with every task through an Airflow Variable.

    Outside a task (no Task SDK supervisor to reach the Variable) the token stays in this object.
    """

    def __init__(
        self,
        conn_id: str,
        client_id: str | None,
        enterprise_id: str | None,
        user_id: str | None,
        base_url: str | None,
    ):
        self.key = token_variable(conn_id)
        self.conn_id = conn_id
        self.fingerprint = token_fingerprint(client_id, enterprise_id, user_id, base_url)
        # Also around every call to Airflow: dag.test()'s in-process channel is not thread-safe.
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._expires_at = 0.0
        self._renewed_at = 0.0
        # Whether the Variable was read for the token held (one read per token, as it ages).
        self._variable_read = False
        self._shared = True

    def get(self) -> AccessToken | None:
        """The token held while fresh, else the Variable's (read once as it ages); None: renew."""
        with self._lock:
            now = time.time()
            if not self._fresh(now) and not self._variable_read and self._shared:
                self._variable_read = True
                self._adopt(Variable.get(self.key, default=None), now)
            if self._fresh(now):
                return self._token
            if self._token and now < min(self._expires_at, self._renewed_at + RENEW_INTERVAL):
                return self._token
            self._renewed_at = now
            return None

    def store(self, token: AccessToken) -> None:
        """Hold the token boxsdk fetched and share it."""
        with self._lock:
            mask_secret(token.access_token)
            now = time.time()
            self._renewed_at = now
            self._hold(token, now + (token.expires_in or 0), now)
            if self._shared:
                shared = {
                    "access_token": token.access_token,
                    "token_type": token.to_dict().get("token_type"),
                    "expires_at": self._expires_at,
                    "fingerprint": self.fingerprint,
                }
                description = DESCRIPTION.format(conn_id=self.conn_id)
                self._share(lambda: Variable.set(self.key, json.dumps(shared), description))

    def clear(self) -> None:
        """Forget the token, here and in the Variable."""
        with self._lock:
            self._token, self._expires_at = None, 0.0
            if self._shared:
                self._share(lambda: Variable.delete(self.key))

    def _fresh(self, now: float) -> bool:
        return self._token is not None and now < self._expires_at - RENEW_MARGIN

    def _hold(self, token: AccessToken, expires_at: float, now: float) -> None:
        self._token, self._expires_at = token, expires_at
        self._variable_read = not self._fresh(now)

    def _adopt(self, raw: str | None, now: float) -> None:
        """Take the Variable's token if it is this app's: another task may have renewed it."""
        if raw is None:
            return
        try:
            shared = json.loads(raw)
            access_token, expires_at = shared["access_token"], float(shared["expires_at"])
            token = AccessToken(
                access_token=access_token,
                expires_in=int(expires_at - now),
                token_type=shared["token_type"],
            )
            ours = shared["fingerprint"] == self.fingerprint
        except (ValueError, TypeError, KeyError):
            log.info("Variable %s holds no token as this hook stores one; ignored", self.key)
            return
        if ours and isinstance(access_token, str):
            mask_secret(access_token)
            self._hold(token, expires_at, now)

    def _share(self, write: Callable[[], None]) -> None:
        try:
            write()
        except ImportError:
            # Variable.set/delete import the Task SDK supervisor's channel, set only in a task.
            self._shared = False
            log.info(
                "Not in an Airflow task: the Box token of connection %s is kept in memory only",
                self.conn_id,
            )
        except AirflowRuntimeError as error:
            log.warning("Variable %s not written, the token not shared: %s", self.key, error)
