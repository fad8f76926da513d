"""Pure builders of the sandbox's `"box"` fixture: plain dicts, ready for JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ROOT_FOLDER_ID = "0"
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
ENTERPRISE_ID = "1000"


def folder(
    folder_id: str, name: str, parent: str = ROOT_FOLDER_ID, *, forbidden: bool = False
) -> dict:
    """One folder record."""
    return {"id": folder_id, "name": name, "parent": parent, "forbidden": forbidden}


# When the fixture's files were uploaded: long before any look, so they have settled.
UPLOADED_LONG_AGO = "2025-01-06T09:00:00+00:00"


def file(
    file_id: str,
    name: str,
    parent: str,
    size: int = 1024,
    *,
    seed: str | None = None,
    created_at: str = UPLOADED_LONG_AGO,
) -> dict:
    """One file record; its content is generated from `seed` (default: the file id) and `size`.

    `created_at` is Box's date of its upload (and of its last change).
    """
    return {
        "id": file_id,
        "name": name,
        "parent": parent,
        "size": size,
        "seed": seed or file_id,
        "created_at": created_at,
    }


def campaign_folder(
    folder_id: str,
    name: str | None = None,
    assets: Mapping[str, int] | Iterable[str] = (),
    *,
    parent: str = ROOT_FOLDER_ID,
    master_assets_name: str | None = "Master Assets",
) -> dict:
    """A campaign folder holding a Master Assets folder (id `<folder_id>-ma`) with `assets`.

    `assets` maps paths relative to Master Assets (``"video/cut.mp4"``) to sizes, or lists paths
    (1 KiB each); subfolders are created on the way. `master_assets_name=None` leaves it out.
    """
    folders = [folder(folder_id, name or f"Campaign {folder_id}", parent)]
    files: list[dict] = []
    if master_assets_name is None:
        return {"folders": folders, "files": files}
    master_id = f"{folder_id}-ma"
    folders.append(folder(master_id, master_assets_name, folder_id))
    sizes = assets if isinstance(assets, Mapping) else dict.fromkeys(assets, 1024)
    folder_ids = {"": master_id}
    for number, (path, size) in enumerate(sizes.items(), start=1):
        *dirs, file_name = path.split("/")
        for depth in range(1, len(dirs) + 1):
            sub_path = "/".join(dirs[:depth])
            if sub_path not in folder_ids:
                folder_ids[sub_path] = f"{master_id}-d{len(folder_ids)}"
                parent_id = folder_ids["/".join(dirs[: depth - 1])]
                folders.append(folder(folder_ids[sub_path], dirs[depth - 1], parent_id))
        files.append(file(f"{master_id}-f{number}", file_name, folder_ids["/".join(dirs)], size))
    return {"folders": folders, "files": files}


def box_fixture(
    *parts: Mapping,
    clients: Iterable[Mapping] | None = None,
    developer_tokens: Iterable[str] = (),
    token_ttl: float = 3600,
) -> dict:
    """The `"box"` fixture value: `parts` (folders and files) merged, one CCG client by default."""
    if clients is None:
        clients = [
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "enterprise_id": ENTERPRISE_ID}
        ]
    return {
        "clients": list(clients),
        "developer_tokens": list(developer_tokens),
        "token_ttl": token_ttl,
        "folders": [record for part in parts for record in part.get("folders", ())],
        "files": [record for part in parts for record in part.get("files", ())],
    }
