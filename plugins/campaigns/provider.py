"""The package as an Airflow provider: the DAM and Box connection types of Admin → Connections.

pyproject.toml's ``apache_airflow_provider`` entry point names ``get_provider_info``; Airflow reads
the forms from it in every process without importing the hooks, so only the fields are imported.
"""

from __future__ import annotations

from typing import Any

from campaigns.connection_fields import BOX, DAM

# The distribution's canonical name (pyproject.toml): Airflow refuses a provider named otherwise.
PACKAGE_NAME = "a1-to-a2"


def get_provider_info() -> dict[str, Any]:
    """The provider info Airflow's providers manager reads (``provider_info.schema.json``)."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "a1_to_a2 campaigns",
        "description": "The DAM (OpenText Media Management) and Box connections of the "
        "a1_to_a2 DAGs, which move campaigns from A1 to A2 once their master assets arrive.",
        "connection-types": [DAM.provider_entry(), BOX.provider_entry()],
    }
