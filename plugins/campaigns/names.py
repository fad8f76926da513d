"""Names and ids compared as people read them, and shown so that an odd character is visible."""

from __future__ import annotations

import unicodedata

# Characters that print as nothing yet make two names differ (Unicode category Cf covers most).
_INVISIBLE = frozenset("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")


def comparable(name: str) -> str:
    """`name` as it reads: NFKC, invisible characters gone, each run of spaces one, casefolded."""
    text = _visible_characters(unicodedata.normalize("NFKC", name))
    folded = " ".join(text.split()).casefold()
    return unicodedata.normalize("NFKC", folded)


def comparable_id(item_id: str) -> str:
    """An id as typed into a form: NFKC (full-width digits become digits), no spaces at all."""
    return "".join(_visible_characters(unicodedata.normalize("NFKC", item_id)).split())


def shown(name: str) -> str:
    """`name` quoted, with every character that is not plainly visible written as an escape."""
    escaped = "".join(
        "\\\\"
        if character == "\\"
        else character
        if character == " " or (character.isprintable() and character not in _INVISIBLE)
        else _escape(character)
        for character in name
    )
    return f"'{escaped}'"


def _visible_characters(text: str) -> str:
    return "".join(
        character
        for character in text
        if character not in _INVISIBLE and unicodedata.category(character) != "Cf"
    )


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
