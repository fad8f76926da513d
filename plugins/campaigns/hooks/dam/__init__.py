"""The DAM (OpenText Media Management) over its REST API, as ``shared/dam-api.md`` describes it.

`DamHook` is the one entry point; the modules beside it hold one concern each: the connection's
settings, the HTTP transport, sign-in, reading answers, and the multipart upload.
"""

from campaigns.hooks.dam.answers import Campaign, DamCampaigns
from campaigns.hooks.dam.hook import AssetImport, DamHook
from campaigns.hooks.dam.settings import DamSettings
from campaigns.hooks.dam.transport import DamError

__all__ = ["AssetImport", "Campaign", "DamCampaigns", "DamError", "DamHook", "DamSettings"]
