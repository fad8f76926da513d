"""Validate sandbox answers against the Box OpenAPI description (schemas under components)."""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path

from openapi_schema_validator import OAS30Validator, oas30_format_checker

# The official spec lies in the shared folder beside the repository (../shared/box-openapi/).
_BESIDE_REPO = Path(__file__).resolve().parents[3] / "shared" / "box-openapi" / "openapi.json"
SPEC_PATH = Path(os.environ.get("BOX_OPENAPI_SPEC", _BESIDE_REPO))


@cache
def _components() -> dict:
    components = copy.deepcopy(json.loads(SPEC_PATH.read_text())["components"])
    schemas = components["schemas"]
    # The live service answers codes outside this enum (rate_limit_exceeded, item_name_in_use).
    del schemas["ClientError"]["properties"]["code"]["enum"]
    # GenericSource (any object) in EventSourceResource's oneOf would make every source ambiguous.
    resource = schemas["EventSourceResource"]
    generic = {"$ref": "#/components/schemas/GenericSource"}
    resource["oneOf"] = [choice for choice in resource["oneOf"] if choice != generic]
    # EventSource's parent is null for the root, but OAS 3.0 ignores `nullable` beside an allOf.
    properties = schemas["EventSource"]["properties"]
    null = {"type": "object", "nullable": True, "enum": [None]}
    properties["parent"] = {"anyOf": [null, properties["parent"]]}
    return components


@cache
def validator(schema_name: str) -> OAS30Validator:
    """A validator for `#/components/schemas/<schema_name>`, resolving refs within the spec."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def validate(schema_name: str, instance: object) -> None:
    """Raise `jsonschema.ValidationError` unless `instance` is a valid `schema_name`."""
    validator(schema_name).validate(instance)
