"""DamHook: finds campaigns by status, moves them and imports assets, over the DAM contract."""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import IO, Any

import requests
from airflow.sdk import BaseHook

from campaigns.errors import (
    BadCampaignData,
    CampaignError,
    CampaignLocked,
    StatusChangeRefused,
    TransientError,
)
from campaigns.hooks.dam import answers, signin
from campaigns.hooks.dam.answers import Campaign, DamCampaigns, dig, json_of, unreadable
from campaigns.hooks.dam.settings import DamSettings
from campaigns.hooks.dam.transport import AnswerLost, DamTransport, raise_for_status
from campaigns.hooks.dam.upload import MultipartUpload
from campaigns.hooks.wire import path_segment

FOLDER = "campaign folder"


@dataclass(frozen=True)
class AssetImport:
    """An import the DAM took: its job id, or the asset id when its answer was lost but the
    asset was found in the folder."""

    job_id: str | None = None
    asset_id: str | None = None


class DamHook(BaseHook):
    """Finds campaigns by status, moves them to another status and imports assets into them."""

    conn_name_attr = "dam_conn_id"
    default_conn_name = "dam_default"
    conn_type = "otmm"
    hook_name = "OpenText Media Management"

    def __init__(self, dam_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.dam_conn_id = dam_conn_id
        self._signed_in = False

    @cached_property
    def settings(self) -> DamSettings:
        return DamSettings.from_connection(self.get_connection(self.dam_conn_id))

    @cached_property
    def transport(self) -> DamTransport:
        return DamTransport(self.settings, self.log)

    @property
    def session(self) -> requests.Session:
        """The HTTP session, with the connection's TLS settings."""
        return self.transport.session

    def search_form(self, status: str) -> dict[str, Any]:
        """The form of the status search, without its page offset (``after``)."""
        settings = self.settings
        operator = settings.search_operator_id
        condition = {
            "type": "com.artesia.search.SearchScalarCondition",
            "metadata_field_id": settings.status_field,
            "relational_operator_id": operator,
            "relational_operator_name": operator.rsplit(".", 1)[-1].lower(),
            "value": status,
        }
        form = {
            "load_type": "metadata",
            "level_of_detail": "slim",
            "limit": settings.page_size,
            "search_condition_list": json.dumps(
                {"search_condition_list": {"search_condition": [condition]}}
            ),
            "metadata_to_return": ",".join(
                [settings.status_field, settings.number_field, settings.box_folder_field]
            ),
        }
        if settings.search_config_id:
            form["search_config_id"] = settings.search_config_id
        return form

    def get_campaigns(self, status: str) -> DamCampaigns:
        """Every campaign at `status`, over all pages; those with unreadable metadata in `bad`.

        A search that shifts while it pages is read again, up to ``search_rereads`` times; when
        no read held still, the campaigns of every read, not `whole`.
        """
        form = self.search_form(status)

        def search_page(after: int) -> tuple[list[Any], int]:
            return answers.search_page(
                self._call("POST", "search/text", data={**form, "after": after})
            )

        def campaigns_among(hits: list[Any]) -> DamCampaigns:
            campaigns: dict[str, Campaign] = {}
            bad = []
            for hit in hits:
                if isinstance(hit, dict) and hit.get("data_type") != "CONTAINER":
                    continue
                try:
                    campaign = self._campaign(hit)
                except BadCampaignData as problem:
                    bad.append(problem)
                    continue
                # An operator such as CHAR.CONTAINS also finds A10 for A1.
                if campaign.status == status:
                    # A hit repeated by a shifting search: the first counts.
                    campaigns.setdefault(campaign.campaign_id, campaign)
            return DamCampaigns(list(campaigns.values()), bad)

        reads = []
        for read in range(1 + self.settings.search_rereads):
            hits, held_still = answers.search_read(search_page)
            reads.append(campaigns_among(hits))
            if held_still:
                return reads[-1]
            self.log.info(
                "The DAM's campaigns at %s changed while read %d paged through them",
                status,
                read + 1,
            )
        self.log.warning(
            "The DAM's campaigns at %s changed during each of %d reads: taking every campaign "
            "any read found",
            status,
            len(reads),
        )
        return answers.union(reads)

    def move_campaign(self, campaign_id: str, from_status: str, to_status: str) -> None:
        """Move a campaign from `from_status` to `to_status` under a lock; already there is fine."""
        locked = self._set_lock(campaign_id, "lock")
        try:
            self._change_status(campaign_id, from_status, to_status, locked)
        except BaseException:
            if locked:
                try:
                    self._set_lock(campaign_id, "unlock")
                except CampaignError as error:
                    self.log.warning("Could not unlock campaign %s: %s", campaign_id, error)
            raise
        # Another's lock is theirs to release, not ours.
        if locked:
            self._set_lock(campaign_id, "unlock")

    def import_asset(
        self,
        folder_id: str,
        name: str,
        content: Iterable[bytes] | IO[bytes],
        size: int | None = None,
        metadata: dict | None = None,
    ) -> AssetImport:
        """Stream `content` into the DAM folder as an asset named `name`.

        An import whose answer is lost (it may have reached the DAM) is looked for among the
        folder's children before it is sent again: a real DAM would hold it twice.
        """
        upload = self._upload(folder_id, name, content, size, metadata)
        known = {child["asset_id"] for child in self.list_folder_children(folder_id)}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._call(
                    "POST",
                    "assets",
                    data=upload.body,
                    headers={"Content-Type": upload.content_type},
                    folder_id=folder_id,
                    resend=False,
                )
            except AnswerLost as lost:
                asset_id = self._look_for_import(folder_id, name, size, known, lost)
                if asset_id is not None:
                    return AssetImport(asset_id=asset_id)
                if attempt >= self.settings.max_attempts:
                    raise TransientError(
                        f"the import of {name!r} into campaign folder {folder_id} failed "
                        f"{attempt} times and is not in the folder; {lost}"
                    ) from lost
                continue
            job_id = answers.read(response, "import", ("job_handle", "job_id"), str | int)
            return AssetImport(job_id=str(job_id))

    def list_folder_children(self, folder_id: str) -> list[dict]:
        """The assets in a DAM folder, over all pages: asset id, name, data type and size."""
        page_size = self.settings.page_size

        def children_page(after: int) -> tuple[list[dict], bool]:
            response = self._call(
                "GET",
                f"folders/{path_segment(folder_id, FOLDER)}/children",
                params={"load_type": "metadata", "after": after, "limit": page_size},
                folder_id=folder_id,
            )
            children = answers.children_page(response)
            return children, len(children) < page_size

        return [
            {
                "asset_id": child["asset_id"],
                "name": child.get("name"),
                "data_type": child.get("data_type"),
                "size": (child.get("master_content_info") or {}).get("content_size"),
            }
            for child in answers.paged(children_page)
        ]

    def test_connection(self) -> tuple[bool, str]:
        """The read-only DAM check (``python -m campaigns.check_dam``): ok when nothing needs
        fixing, and its findings in short."""
        from campaigns.check_dam import check  # check_dam imports this module

        report = check(self)
        return report.exit_code == 0, report.short()

    def __enter__(self) -> DamHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Sign out and release the HTTP session (a DAM counts open sessions against licences)."""
        if "transport" not in self.__dict__ or not self.transport.opened:
            return
        if self._signed_in:
            signin.sign_out(self.transport)
        self._signed_in = False
        self.transport.close()

    def _upload(
        self,
        folder_id: str,
        name: str,
        content: Iterable[bytes] | IO[bytes],
        size: int | None,
        metadata: dict | None,
    ) -> MultipartUpload:
        """The import's multipart body: the site's model and policies (or template), the file."""
        settings = self.settings
        asset: dict[str, Any] = {"metadata": metadata or {"metadata_element_list": []}}
        if settings.metadata_model_id:
            asset["metadata_model_id"] = settings.metadata_model_id
        if settings.security_policy_ids:
            asset["security_policy_list"] = [
                {"id": int(policy) if policy.isdigit() else policy}
                for policy in settings.security_policy_ids
            ]
        file_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        master_file = {"file": {"file_name": name, "file_type": file_type}}
        fields = {
            "asset_representation": json.dumps({"asset_resource": {"asset": asset}}),
            "parent_folder_id": folder_id,
            "manifest": json.dumps({"upload_manifest": {"master_files": [master_file]}}),
        }
        if settings.import_template_id:
            fields["import_template_id"] = settings.import_template_id
        return MultipartUpload(fields, name, file_type, content, size)

    def _look_for_import(
        self, folder_id: str, name: str, size: int | None, known: set[str], lost: AnswerLost
    ) -> str | None:
        """The asset id of the import whose answer was lost, if it landed; looked for a few
        times, with the backoff between, as the DAM may take a moment to show it."""
        settings = self.settings
        self.log.warning(
            "The DAM's answer to the import of %r was lost (%s); looking for it in campaign "
            "folder %s before sending it again",
            name,
            lost,
            folder_id,
        )
        for look in range(settings.lost_import_looks):
            if look:
                time.sleep(settings.backoff * 2 ** (look - 1))
            children = self.list_folder_children(folder_id)
            asset_id = answers.new_child(children, known, name, size)
            if asset_id is not None:
                self.log.info("The import of %r landed as asset %s", name, asset_id)
                return asset_id
        self.log.warning("The import of %r is not in campaign folder %s", name, folder_id)
        return None

    def _campaign(self, asset: Any) -> Campaign:
        settings = self.settings
        return answers.campaign_from(
            asset, settings.status_field, settings.number_field, settings.box_folder_field
        )

    def _change_status(
        self, campaign_id: str, from_status: str, to_status: str, locked: bool
    ) -> None:
        folder_path = f"folders/{path_segment(campaign_id, FOLDER)}"
        response = self._call(
            "GET", folder_path, params={"load_type": "metadata"}, folder_id=campaign_id
        )
        found = answers.fields(dig(response.json(), "folder_resource", "folder", "metadata"))
        status_field = self.settings.status_field
        try:
            status = answers.identifier(answers.field_value(found, status_field))
        except answers.UnreadableField as error:
            raise StatusChangeRefused(f"campaign {campaign_id}: status {error}") from error
        if status == to_status:
            self.log.info("Campaign %s is already at %s", campaign_id, to_status)
            return
        if not locked:
            raise CampaignLocked(
                f"campaign {campaign_id} is locked by someone else in the DAM; it stays at {status}"
            )
        if status != from_status:
            raise StatusChangeRefused(
                f"campaign {campaign_id} is at {status or 'no status'}, no longer at {from_status}"
            )
        status_value = {"value": answers.written_value(found, status_field, to_status)}
        edit = {"id": status_field, "type": answers.FIELD_TYPE, "value": status_value}
        self._call(
            "PATCH",
            folder_path,
            json={"edited_folder": {"data": {"metadata": [edit]}}},
            folder_id=campaign_id,
        )

    def _set_lock(self, campaign_id: str, action: str) -> bool:
        """Lock or unlock a campaign folder; False when someone else holds its lock."""
        selection = {
            "selection_context_param": {
                "selection_context": {
                    "asset_ids": [campaign_id],
                    "type": "com.artesia.asset.selection.AssetIdsSelectionContext",
                    "include_descendants": "NONE",
                }
            }
        }
        response = self._call(
            "PUT",
            "assets/state",
            data={"action": action, "selection_context": json.dumps(selection)},
            folder_id=campaign_id,
        )
        answer = json_of(response, "status change")
        result = dig(answer, "bulk_asset_result_representation", "bulk_asset_result")
        failed = dig(result, "failed_object_list") or []
        if not isinstance(result, dict) or not isinstance(failed, list):
            raise unreadable("status change", answer)
        return campaign_id not in failed

    def _call(
        self, method: str, path: str, *, folder_id: str | None = None, **request: Any
    ) -> requests.Response:
        """A signed-in DAM call, signing in again once if the session expired; errors mapped."""
        if not self._signed_in:
            self._sign_in()
        response = self.transport.send(method, path, **request)
        if response.status_code == 401:
            self.log.info("The DAM session expired; signing in again")
            self._sign_in()
            response = self.transport.send(method, path, **request)
        raise_for_status(response, folder_id)
        return response

    def _sign_in(self) -> None:
        self._signed_in = False
        signin.sign_in(self.transport)
        self._signed_in = True
