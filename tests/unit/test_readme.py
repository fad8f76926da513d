"""The README's tables made from the declarations: a test fails when they differ."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaigns import metrics, settings
from campaigns.connection_fields import BOX, DAM

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    ("marker", "made"),
    [
        ("dam-extras", DAM.markdown_table),
        ("box-extras", BOX.markdown_table),
        ("settings", settings.markdown_table),
        ("metrics", metrics.markdown_table),
    ],
)
def test_the_readme_table_is_the_declaration_s(marker, made):
    found = re.search(
        rf"<!-- {marker}: [^>]*-->\n(.*?)\n<!-- /{marker} -->", README.read_text(), re.DOTALL
    )
    assert found, f"README.md lacks the <!-- {marker} --> block"
    assert found.group(1) == made(), (
        f"README.md's {marker} table differs from the declaration; replace it with:\n" + made()
    )
