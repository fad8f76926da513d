"""The errors the hooks raise, split by what they mean for a campaign."""

from __future__ import annotations


class CampaignError(Exception):
    """Base of every error this package raises on purpose."""


class FolderError(CampaignError):
    """A genuine problem with one campaign's folder: it counts as a strike against the campaign."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransientError(CampaignError):
    """A passing outage (rate limit, 5xx, timeout): the task fails and retries, no strike."""


class NotRetryable(CampaignError):
    """A failure no retry can cure (credentials, TLS, a refusal): the task fails at once."""


class BadCampaignData(CampaignError):
    """A campaign whose DAM metadata cannot be read; reported per campaign, never ends a poll."""

    def __init__(self, campaign_id: str, reason: str):
        super().__init__(f"campaign {campaign_id!r}: {reason}")
        self.campaign_id = campaign_id
        self.reason = reason


class StatusChangeRefused(CampaignError):
    """The DAM refused to move a campaign: locked elsewhere, or no longer at the expected status."""


class CampaignLocked(StatusChangeRefused):
    """Someone holds the campaign folder's lock in the DAM: work in progress, tried next poll."""
