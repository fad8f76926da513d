"""The a1_to_a2 grid as the API server builds it: one row per stage and per action."""

from __future__ import annotations

from typing import Any

from campaigns.operators.actions import ACTION_OPERATORS


def grid_rows(dag: Any) -> list[dict[str, Any]]:
    """The grid structure of ``/ui/grid/structure``, built by the API server's own functions."""
    from airflow.api_fastapi.core_api.services.ui.task_group import (
        get_task_group_children_getter,
        task_group_to_dict_grid,
    )
    from airflow.serialization.serialized_objects import DagSerialization

    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    groups = serialized.task_group.get_task_group_dict()
    children = get_task_group_children_getter()(serialized.task_group, groups)
    return [task_group_to_dict_grid(child, group_dict=groups) for child in children]


def test_the_grid_reads_the_stages_then_one_row_per_action_then_report(a1_to_a2_dag):
    rows = grid_rows(a1_to_a2_dag)
    assert [row["label"] for row in rows] == [
        "fetch",
        "select",
        "check",
        "decide",
        *sorted(ACTION_OPERATORS),
        "report",
    ]
    actions = {row["label"]: row["children"] for row in rows if row["children"]}
    # Each action's row folds its routing task and the action's mapped instances.
    assert {
        label: [(child["id"], child["is_mapped"]) for child in children]
        for label, children in actions.items()
    } == {action: [(f"to_{action}", None), (action, True)] for action in ACTION_OPERATORS}
