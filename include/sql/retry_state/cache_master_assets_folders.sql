UPDATE campaign_status AS cs SET master_assets_folder_id = f.folder_id, updated_at = now()
FROM unnest(%(campaign_ids)s::text[], %(folder_ids)s::text[]) AS f (campaign_id, folder_id)
WHERE cs.campaign_id = f.campaign_id
  AND cs.master_assets_folder_id IS DISTINCT FROM f.folder_id
