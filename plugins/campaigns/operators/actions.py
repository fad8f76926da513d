"""The five actions, one small operator each, mapped over the campaigns the decision sent there.

Each instance receives a batch of decided campaigns (see ``campaigns.stages``) and is safe to run
again: emails and webhook events are claimed in the notification ledger, imports in the asset
ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from campaigns import metrics, notify
from campaigns.rules import Outcome
from campaigns.settings import PipelineSettings
from campaigns.stages import pull_batch, run_settings


class CampaignActionOperator(BaseOperator):
    """Base of the five actions: runs ``act`` for each campaign of its batch, which it reads from
    the XComs of ``batches_from`` by the reference it is given (``campaigns.stages.refer``)."""

    template_fields: Sequence[str] = ("batch",)
    ui_color = "#e8f1fb"

    def __init__(self, *, batch: dict[str, Any], batches_from: str, **kwargs: Any):
        kwargs.setdefault("map_index_template", "{{ campaigns_in_batch }}")
        super().__init__(**kwargs)
        self.batch = batch
        self.batches_from = batches_from

    def execute(self, context: Any) -> list[str]:
        context["campaigns_in_batch"] = self.batch["label"]
        self.campaigns = pull_batch(self.batch, self.batches_from, context["ti"])
        for campaign in self.campaigns:
            self.act(campaign, context)
        return [campaign["campaign_id"] for campaign in self.campaigns]

    def act(self, campaign: dict[str, Any], context: Any) -> None:
        raise NotImplementedError

    def announce(
        self, campaign: dict[str, Any], kind: str, context: Any, settings: PipelineSettings
    ) -> None:
        """POST the campaign's event to the webhook, once, if one is set."""
        if settings.webhook_conn_id is None:
            return
        from campaigns.hooks.retry_state import RetryStateHook

        sent = notify.notify_webhook(
            RetryStateHook(), campaign, kind, context["run_id"], settings.webhook_conn_id
        )
        self.log.info(
            "%s: %s event %s (webhook %s)",
            campaign["number"],
            campaign["action"],
            "sent" if sent else "sent already, not again",
            settings.webhook_conn_id,
        )


class SkipCampaignOperator(CampaignActionOperator):
    """Folder still empty, or its upload still settling: the poll was counted, nothing is sent."""

    ui_color = "#f0f0f0"

    def act(self, campaign: dict[str, Any], context: Any) -> None:
        if campaign["outcome"] == Outcome.SETTLING.value:
            self.log.info(
                "%s %s: Master Assets still settling (%d files, poll %d) - promoted once quiet",
                campaign["number"],
                campaign["name"],
                len(campaign["assets"]),
                campaign["poll_count"],
            )
            return
        self.log.info(
            "%s %s: No master assets yet (poll %d) - skipping until assets appear",
            campaign["number"],
            campaign["name"],
            campaign["poll_count"],
        )


class _EmailingOperator(CampaignActionOperator):
    """An action whose whole effect is one email per campaign, sent exactly once."""

    kind_and_template: tuple[str, str]

    def act(self, campaign: dict[str, Any], context: Any) -> None:
        from campaigns.hooks.retry_state import RetryStateHook

        settings = run_settings(context["params"])
        kind, template = self.kind_and_template
        email = notify.render_email(
            template,
            campaign_id=campaign["campaign_id"],
            campaign_name=campaign["name"],
            campaign_number=campaign["number"],
            poll_count=campaign["poll_count"],
            attempt=campaign["attempt"],
            max_attempts=campaign["max_attempts"],
            reason=campaign["reason"],
            run_url=notify.run_url(context["dag_run"].dag_id, context["run_id"]),
        )
        sent = notify.notify_once(
            RetryStateHook(),
            campaign["campaign_id"],
            kind,
            context["run_id"],
            episode=campaign["episode"],
            attempt=campaign["attempt"] or 0,
            send=lambda _claim: notify.send_email(email, settings.recipients, settings.sender),
        )
        if sent:
            metrics.EMAILS_SENT.send(kind=kind)
        self.log.info(
            "%s: %s %r",
            campaign["number"],
            "sent" if sent else "already sent, not again:",
            email.subject,
        )
        self.announce(campaign, kind, context, settings)


class WarnCampaignOperator(_EmailingOperator):
    """Empty for as many polls as the threshold: the episode's one warning."""

    ui_color = "#fff4d6"
    kind_and_template = notify.WARNING


class RetryCampaignOperator(_EmailingOperator):
    """A genuine folder error below the limit: the "attempt X/N" email."""

    ui_color = "#ffe3cc"
    kind_and_template = notify.RETRY


class FailCampaignOperator(_EmailingOperator):
    """The limit of genuine errors in a row: permanently failed, with how to reset it.

    The failure itself was recorded with the poll, atomically; this sends the final email.
    """

    ui_color = "#ffd6d6"
    kind_and_template = notify.FAILED


class ResetCampaignOperator(CampaignActionOperator):
    """Assets present: the campaign's promotion (``campaigns.promotion``), then, with a webhook
    set, its announcement there, once; and its event of the Asset ``campaigns/a2``, once
    (``campaigns.promotion_events``; the task's inlets and outlets must hold that Asset and the
    alias ``PROMOTIONS``)."""

    ui_color = "#dff5e1"

    def execute(self, context: Any) -> list[str]:
        """The batch with one DAM session (signed out at the end) and one Box client."""
        from campaigns.hooks.box import BoxHook
        from campaigns.hooks.dam import DamHook
        from campaigns.hooks.retry_state import RetryStateHook
        from campaigns.promotion import Promotion
        from campaigns.promotion_events import PROMOTED_TO_A2, announced

        settings = run_settings(context["params"])
        dag_run = context["dag_run"]
        # Events are registered only when an instance succeeds: this run's are the promotions a
        # try before this one (cleared since) announced; a failed try's are not among them.
        events = context["inlet_events"][PROMOTED_TO_A2].after(dag_run.run_after)
        self.announced = announced(events, dag_run.dag_id, dag_run.run_id)
        self.emitted = 0
        box = BoxHook(requests_per_minute=settings.box_requests_per_minute)
        with DamHook() as dam:
            self.promotion = Promotion(settings, box, dam, RetryStateHook(), self.log)
            return super().execute(context)

    def act(self, campaign: dict[str, Any], context: Any) -> None:
        from campaigns.promotion import Result

        if self.promotion.promote(campaign) is Result.PROMOTED:
            self.announce(campaign, notify.RESET, context, self.promotion.settings)
            self.emit_promotion(campaign, context)

    def emit_promotion(self, campaign: dict[str, Any], context: Any) -> None:
        """Add the campaign's event of ``campaigns/a2``, unless this run announced it already."""
        from campaigns.promotion_events import (
            PROMOTED_TO_A2,
            PROMOTIONS,
            emission,
            promotion_extra,
            with_asset_ids,
        )

        campaign_id = campaign["campaign_id"]
        if campaign_id in self.announced:
            self.log.info(
                "%s: its %s event is in already, not again", campaign["number"], PROMOTED_TO_A2.name
            )
            return
        ledger = self.promotion.state.get_imported_assets(campaign_id)
        if not all(row["dam_asset_id"] for row in ledger):
            # A site importing through jobs gave job ids: the folder now names the assets.
            ledger = with_asset_ids(ledger, self.promotion.dam.list_folder_children(campaign_id))
        extra = promotion_extra(campaign, ledger, context["run_id"])
        extra.update(emission(context["ti"], self.emitted))
        context["outlet_events"][PROMOTIONS].add(PROMOTED_TO_A2, extra=extra)
        self.emitted += 1
        self.log.info(
            "%s: %s event with %d assets, registered when this task succeeds",
            campaign["number"],
            PROMOTED_TO_A2.name,
            len(extra["assets"]),
        )


ACTION_OPERATORS: dict[str, type[CampaignActionOperator]] = {
    "skip": SkipCampaignOperator,
    "warn": WarnCampaignOperator,
    "retry": RetryCampaignOperator,
    "fail": FailCampaignOperator,
    "reset": ResetCampaignOperator,
}
