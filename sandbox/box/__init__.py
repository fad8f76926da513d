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
sha1 of what was uploaded), `POST tokens/expire` (issued tokens answer 401 until refreshed).
An uploaded file keeps only its name, size and sha1: downloading it yields generated content.
"""
