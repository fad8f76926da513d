"""Registers the poll's deadline reference (``campaigns.poll_deadline``) with Airflow, so that the
scheduler and the API server can work out each a1_to_a2 run's deadline."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from campaigns.poll_deadline import PollDeadline


class CampaignsDeadlinePlugin(AirflowPlugin):
    """The deadline of a poll run: its queue time plus its ``poll_deadline_minutes``."""

    name = "campaigns_deadline"
    deadline_references = [PollDeadline]  # noqa: RUF012 (the attribute AirflowPlugin reads)
