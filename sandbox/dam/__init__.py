"""The DAM sandbox: a fake OpenText Media Management serving the subset in the DAM contract.

`sandbox.dam.app.create_app(fixture)` reads the fixture's `"dam"` key, built with
`sandbox.dam.fixture.dam(...)`: `fields` (status, number and box_folder field ids), `users`
(name -> password), `oauth_clients` (client id -> secret), `session_ttl_seconds` and
`session_max_requests` (sessions expire after either; null: never), `campaigns` (from
`fixture.campaign(...)`: id, name, status, number, box_folder_id, raw `metadata` overrides per
field id, `missing` field ids, `locked_by`, `forbidden`) and `assets` (plain assets a status
search also finds, from `fixture.asset(...)`). The site variant (`fixture.dam`'s options, presets
in `fixture.VARIANTS`): `status_kind`, `sign_out` (else DELETE /sessions answers 405), `otds`
(then `/otdsws/rest/authentication/credentials` and `.../resource/ticketforresource` are served,
and `GET /otmmapi/{v}/sessions` with `OTDSToken` opens a session), `imports_need_model`,
`import_templates`, `search_operator_id`, `search_config_id` and `import_status`. Folder
children carry no total.

Control routes besides the shared counters and faults: `POST /_sandbox/campaigns` (a campaign
dict), `GET`/`DELETE /_sandbox/campaigns/{id}` (status, lock holder and imported assets: name,
size, sha1, file type, and the model, policies and template their import named), `PUT
/_sandbox/campaigns/{id}/status` `{"status"}`, `PUT /_sandbox/campaigns/{id}/lock` `{"user"}`
(null releases), `GET /_sandbox/sessions` (`{"open": n}`: sessions and tokens not signed out or
expired), and `POST /_sandbox/sessions/expire` `{"after_requests": n}` (0: now; n: right after
the next n signed-in calls; OTDS tickets end too). Bad input for the hook: `POST
/_sandbox/search-answers` `[{"status", "body" or "text"}]` queues answers the next searches get
verbatim (`DELETE` drops them), and `GET`/`DELETE /_sandbox/requests` lists ("METHOD raw path",
as encoded) or forgets the API requests received; `{session_id}` and `{secret}` in a queued
answer become the caller's. `PUT /_sandbox/imports/delay` `{"seconds": s}` answers every import
that long after recording it, so a client can die between the import and its answer.
"""
