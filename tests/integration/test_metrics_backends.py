"""The metrics through OpenTelemetry, and those that cannot be sent logged, never raised (real
runs sending them to StatsD: ``tests/dags/test_metrics.py``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from campaigns import metrics
from campaigns.hooks.retry_state import RetryStateHook
from tests.statsd_listener import PREFIX, initialize_stats

NOT_SENT = "Metrics are not sent"
ROOT = Path(__file__).resolve().parents[2]
# A task process's metrics, as task_runner.main sets up Stats; the exit flushes OpenTelemetry's.
SENDER = """
from campaigns import metrics
from tests.statsd_listener import initialize_stats

initialize_stats()
metrics.PROMOTIONS.send()
metrics.EMAILS_SENT.send(kind="warning")
metrics.EMAILS_SENT.send(kind="warning")
metrics.BYTES_IMPORTED.send(2_500)
metrics.CAMPAIGNS_WAITING.send(3)
"""


class OtlpReceiver(BaseHTTPRequestHandler):
    """An OpenTelemetry collector's OTLP/HTTP metrics endpoint: keeps each export it is sent."""

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
            ExportMetricsServiceResponse,
        )

        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.exports.append((self.path, ExportMetricsServiceRequest.FromString(body)))
        answer = ExportMetricsServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


def points(exports) -> dict[tuple[str, tuple], float]:
    """Each data point's value by metric name and attributes, the last export's winning."""
    found = {}
    for _, export in exports:
        for resource in export.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    data = metric.sum if metric.HasField("sum") else metric.gauge
                    for point in data.data_points:
                        attributes = tuple((a.key, a.value.string_value) for a in point.attributes)
                        value = point.as_int if point.HasField("as_int") else point.as_double
                        found[metric.name, attributes] = value
    return found


def test_with_otel_on_the_same_calls_reach_an_otlp_collector_with_their_attributes():
    server = ThreadingHTTPServer(("127.0.0.1", 0), OtlpReceiver)
    server.exports = []
    Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "AIRFLOW__METRICS__OTEL_ON": "True",
        "AIRFLOW__METRICS__OTEL_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__OTEL_PORT": str(server.server_address[1]),
        "AIRFLOW__METRICS__OTEL_PREFIX": PREFIX,
    }
    try:
        sent = subprocess.run(
            [sys.executable, "-c", SENDER], cwd=ROOT, env=env, capture_output=True, text=True
        )
    finally:
        server.shutdown()
    assert sent.returncode == 0, sent.stderr[-3000:]
    assert {path for path, _ in server.exports} == {"/v1/metrics"}
    ours = f"{PREFIX}.{metrics.PREFIX}."
    assert {k: v for k, v in points(server.exports).items() if k[0].startswith(ours)} == {
        (f"{ours}promotions", ()): 1,
        (f"{ours}emails_sent", (("kind", "warning"),)): 2,
        (f"{ours}bytes_imported", ()): 2_500,
        (f"{ours}campaigns.waiting", ()): 3,
    }


@pytest.fixture
def reported(monkeypatch, caplog) -> pytest.LogCaptureFixture:
    """The problems reported so far forgotten; the warnings captured."""
    monkeypatch.setattr(metrics, "_reported", set())
    caplog.set_level(logging.WARNING, logger=metrics.__name__)
    return caplog


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == metrics.__name__]


def test_a_metrics_backend_that_cannot_start_is_logged_once_and_not_raised(reported):
    """Airflow does not catch a ``statsd_port`` that is no number (in a task its own ``ti.start``
    metric fails the task first); this package's metrics log it once and go on."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW__METRICS__STATSD_ON", "True")
        env.setenv("AIRFLOW__METRICS__STATSD_PORT", "not-a-port")
        initialize_stats()
        try:
            metrics.PROMOTIONS.send()
            metrics.EMAILS_SENT.send(kind="retry")
            metrics.CAMPAIGNS_WAITING.send(3)
        finally:
            env.undo()
            initialize_stats()
    [warning] = warnings_of(reported)
    assert warning.startswith(f"{NOT_SENT} (AirflowConfigException: Failed to convert value")
    assert "statsd_port" in warning


def test_state_gauges_whose_database_cannot_be_read_are_logged_not_raised(reported, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TRACKING_GONE", "postgresql://postgres@127.0.0.1:1/gone")
    metrics.send_campaign_gauges(RetryStateHook(postgres_conn_id="tracking_gone"), "A1")
    [warning] = warnings_of(reported)
    assert warning.startswith(f"{NOT_SENT} (OperationalError: ")


def test_a_metric_takes_exactly_its_declared_tags():
    with pytest.raises(ValueError, match=r"a1_to_a2.emails_sent takes the tags \('kind',\)"):
        metrics.EMAILS_SENT.send()
    with pytest.raises(ValueError, match=r"a1_to_a2.promotions takes the tags \(\), not"):
        metrics.PROMOTIONS.send(kind="retry")
