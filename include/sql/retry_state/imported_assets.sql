SELECT box_file_id, sha1, name, size_bytes, dam_asset_id, dam_job_id, imported_at
FROM campaign_assets
WHERE campaign_id = %(campaign_id)s
ORDER BY imported_at, box_file_id
