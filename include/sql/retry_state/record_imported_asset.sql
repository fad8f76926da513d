INSERT INTO campaign_assets
    (campaign_id, box_file_id, sha1, name, size_bytes, dam_asset_id, dam_job_id)
VALUES (%(campaign_id)s, %(box_file_id)s, %(sha1)s, %(name)s, %(size_bytes)s, %(dam_asset_id)s,
        %(dam_job_id)s)
ON CONFLICT (campaign_id, box_file_id, sha1) DO NOTHING
