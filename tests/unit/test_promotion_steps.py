"""The pure parts of a campaign's promotion: DAM names, what a listing holds, what the DAM holds
that the asset ledger does not account for."""

from __future__ import annotations

from campaigns.promotion import contents, dam_name, unrecorded_children

SHA_A, SHA_B = "a" * 40, "b" * 40


def asset(file_id: str, sha1: str = SHA_A, size: int = 100, **more: object) -> dict:
    return {"file_id": file_id, "sha1": sha1, "size": size, "name": "x", "path": "x", **more}


def child(asset_id: str, name: str, size: int | None) -> dict:
    return {"asset_id": asset_id, "name": name, "data_type": "ASSET", "size": size}


def row(name: str, size: int | None, asset_id: str | None = None, job_id: str | None = "j") -> dict:
    return {"name": name, "size_bytes": size, "dam_asset_id": asset_id, "dam_job_id": job_id}


def test_a_dam_name_is_the_path_inside_master_assets_with_its_slashes_written_out():
    assert dam_name("cut.mp4") == "cut.mp4"
    assert dam_name("video/cut.mp4") == "video - cut.mp4"
    assert dam_name("print/2026/poster final.pdf") == "print - 2026 - poster final.pdf"
    assert dam_name("video/cut.mp4") != dam_name("audio/cut.mp4")


def test_a_listing_is_its_files_ids_contents_and_sizes_in_any_order():
    then = [asset("f1"), asset("f2", SHA_B, 200)]
    assert contents(reversed(then)) == contents(then)
    # Names, paths and dates are not what a file is: a rename or a new date is the same file.
    renamed = [asset("f1", path="elsewhere/x", created_at="2026-01-05T09:00:00Z"), then[1]]
    assert contents(renamed) == contents(then)


def test_a_file_added_removed_or_replaced_changes_the_listing():
    then = contents([asset("f1"), asset("f2")])
    assert contents([asset("f1"), asset("f2"), asset("f3")]) != then
    assert contents([asset("f1")]) != then
    assert contents([asset("f1"), asset("f2", SHA_B)]) != then
    assert contents([asset("f1"), asset("f2", size=101)]) != then


def test_with_no_ledger_every_child_is_unrecorded_by_name_and_size():
    children = [child("d1", "video - cut.mp4", 500), child("d2", "audio - cut.mp4", 500)]
    assert unrecorded_children(children, []) == {
        ("video - cut.mp4", 500): ["d1"],
        ("audio - cut.mp4", 500): ["d2"],
    }


def test_a_row_with_an_asset_id_accounts_for_that_child_only():
    children = [child("d1", "cut.mp4", 500), child("d2", "cut.mp4", 500)]
    assert unrecorded_children(children, [row("cut.mp4", 500, asset_id="d2", job_id=None)]) == {
        ("cut.mp4", 500): ["d1"]
    }


def test_a_row_with_a_job_id_accounts_for_one_child_of_its_name_and_size():
    children = [
        child("d1", "cut.mp4", 500),
        child("d2", "cut.mp4", 500),
        child("d3", "cut.mp4", 600),
        child("d4", "video - cut.mp4", 500),
    ]
    assert unrecorded_children(children, [row("cut.mp4", 500)]) == {
        ("cut.mp4", 500): ["d2"],
        ("cut.mp4", 600): ["d3"],
        ("video - cut.mp4", 500): ["d4"],
    }


def test_a_replaced_file_of_the_same_size_finds_its_older_version_accounted_for():
    # The older content was imported (its row holds the job id); the newer one is still to come.
    assert unrecorded_children([child("d1", "cut.mp4", 500)], [row("cut.mp4", 500)]) == {}


def test_a_row_whose_child_is_gone_accounts_for_nothing_else():
    children = [child("d2", "cut.mp4", 500)]
    ledger = [row("cut.mp4", 500, asset_id="d1", job_id=None), row("logo.ai", 200)]
    assert unrecorded_children(children, ledger) == {("cut.mp4", 500): ["d2"]}
