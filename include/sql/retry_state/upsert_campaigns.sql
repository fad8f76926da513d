-- Record the campaigns the DAM returned; a changed Box folder drops the cached Master Assets id.
INSERT INTO campaign_status AS cs
    (campaign_id, campaign_number, campaign_name, status, box_folder_id)
SELECT *
FROM unnest(
    %(campaign_ids)s::text[], %(numbers)s::text[], %(names)s::text[],
    %(statuses)s::text[], %(box_folder_ids)s::text[]
)
ON CONFLICT (campaign_id) DO UPDATE SET
    campaign_number = EXCLUDED.campaign_number,
    campaign_name = EXCLUDED.campaign_name,
    status = EXCLUDED.status,
    box_folder_id = EXCLUDED.box_folder_id,
    master_assets_folder_id = CASE
        WHEN cs.box_folder_id IS DISTINCT FROM EXCLUDED.box_folder_id THEN NULL
        ELSE cs.master_assets_folder_id
    END,
    updated_at = now()
WHERE (cs.campaign_number, cs.campaign_name, cs.status, cs.box_folder_id)
    IS DISTINCT FROM
    (EXCLUDED.campaign_number, EXCLUDED.campaign_name, EXCLUDED.status, EXCLUDED.box_folder_id)
