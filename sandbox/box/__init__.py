"""The Box sandbox: `app.create_app(fixture)` serves the fixture's `"box"` part.

Fixture format (`fixture.box_fixture(...)` and `fixture.campaign_folder(...)` build it)::

    {"box": {
        "clients": [{"client_id": "...", "client_secret": "...", "enterprise_id": "1000",
                     "public_key": "<PEM, optional: verifies JWT assertions>"}],
        "developer_tokens": ["..."],          # accepted as bearer tokens, never expire
        "token_ttl": 3600,                    # seconds an issued access token lives
        "folders": [{"id": "123", "name": "Campaign 123", "parent": "0", "forbidden": false}],
        "files": [{"id": "123-ma-f1", "name": "a.jpg", "parent": "123-ma", "size": 1024,
                   "seed": "123-ma-f1"}]}}   # content generated from seed (default: id) and size

Folder "0" ("All Files") always exists. Control routes under `/_sandbox/`, besides the shared
counters and faults (`sandbox.faults`): `POST folders` and `POST files` (id optional, name,
parent, `forbidden` / `size`, `seed`), `DELETE folders/{id}` (recursive), `DELETE files/{id}`,
`PUT folders/{id}/forbidden` `{"forbidden": true}`, `GET uploads` (id, name, parent, size and
sha1 of what was uploaded), `POST tokens/expire` (issued tokens answer 401 until refreshed),
`PATCH files/{id}` (name, parent, `seed` / `size`: a new version), `PATCH folders/{id}` (name,
parent), `PUT clock` `{"now": "<ISO date or null>"}`.
An uploaded file keeps only its name, size and sha1: downloading it yields generated content.

Every change to the tree (`POST`/`PATCH`/`DELETE` above, `PUT .../forbidden`, an upload) is an
event of the change feed, `GET /2.0/events` (`sandbox.box.events`). Its control routes: `GET
events` (the log kept: `[{"position", "event"}]`), `PUT events/delivery` `{"max_chunk": n,
"repeat": bool, "reorder": bool, "leave_out": [item ids]}` (omitted fields: the defaults; `GET`
shows them), `POST events/expire` (positions before the end answer 400, their events dropped).
"""
