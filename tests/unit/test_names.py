"""Names compared as people read them: the property tests of campaigns.names."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.names import comparable, comparable_id, shown

# Every space separator Unicode has, and the characters that print as nothing.
SPACES = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"] + ["\t", "\n"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


def _case_round_trips(word: str) -> bool:
    """Whether changing the word's case keeps its letters (not so for Turkish dotless i: I)."""
    return all(
        change(word).casefold() == word.casefold()
        for change in (str.upper, str.lower, str.swapcase)
    )


WORDS = st.lists(
    st.text(
        alphabet=st.characters(categories=("Lu", "Ll", "Nd"), max_codepoint=0x2FFF),
        min_size=1,
        max_size=8,
    ).filter(_case_round_trips),
    min_size=1,
    max_size=4,
)


def _typed_oddly(draw: st.DrawFn, words: list[str]) -> str:
    """The words as a person's keyboard, Finder or a pasted document may give them."""
    form = draw(st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
    pieces = [unicodedata.normalize(form, word) for word in words]
    gaps = [draw(st.text(alphabet=st.sampled_from(SPACES), min_size=1, max_size=3)) for _ in words]
    text = "".join(p + g for p, g in zip(pieces, gaps, strict=True)).rstrip(" ")
    text = draw(st.text(alphabet=st.sampled_from(SPACES), max_size=2)) + text
    spots = draw(st.lists(st.integers(0, len(text)), max_size=3))
    for spot in sorted(spots, reverse=True):
        text = text[:spot] + draw(st.sampled_from(INVISIBLE)) + text[spot:]
    return draw(st.sampled_from([str.upper, str.lower, str.swapcase, str]))(text)


@st.composite
def oddly_typed(draw: st.DrawFn) -> tuple[str, str]:
    words = draw(WORDS)
    return " ".join(words), _typed_oddly(draw, words)


@settings(max_examples=400)
@given(oddly_typed())
def test_a_name_typed_oddly_compares_equal_to_the_plain_name(pair):
    plain, odd = pair
    assert comparable(odd) == comparable(plain)


@given(st.text())
def test_comparing_is_idempotent(name):
    assert comparable(comparable(name)) == comparable(name)


@given(st.text())
def test_a_comparable_name_has_no_outer_spaces_runs_or_invisible_characters(name):
    result = comparable(name)
    assert result == result.strip()
    assert "  " not in result
    assert not any(unicodedata.category(c) == "Cf" for c in result)
    assert all(not c.isspace() or c == " " for c in result)


def test_names_that_differ_in_letters_stay_apart():
    assert comparable("Master Assets") != comparable("Master Asset")
    assert comparable("Master Assets") != comparable("MasterAssets")
    assert comparable("Élan") != comparable("Elan")


def test_the_cases_people_meet():
    assert comparable("Master\u00a0Assets") == comparable("master assets")
    assert comparable("Master\u200b Assets") == comparable("Master Assets")
    assert comparable("Cre\u0301ations") == comparable("Créations")
    assert comparable("  MASTER   ASSETS\t") == comparable("Master Assets")
    assert comparable("Ｍａｓｔｅｒ Ａｓｓｅｔｓ") == comparable("Master Assets")


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.text(alphabet=st.sampled_from(SPACES + INVISIBLE), max_size=3),
    st.text(alphabet=st.sampled_from(SPACES + INVISIBLE), max_size=3),
)
def test_an_id_with_spaces_or_invisible_characters_around_is_the_id(digits, before, after):
    assert comparable_id(before + digits + after) == digits


def test_full_width_digits_are_digits():
    assert comparable_id("１０００１") == "10001"


@given(st.text(), st.text())
def test_shown_names_differ_when_the_names_do(first, second):
    if first != second:
        assert shown(first) != shown(second)


@given(st.text())
def test_shown_names_are_plainly_visible(name):
    body = shown(name)[1:-1]
    assert all(c == " " or (c.isprintable() and not c.isspace()) for c in body)
    assert all(unicodedata.category(c) != "Cf" for c in body)


def test_shown_escapes_what_reads_like_a_space():
    assert shown("Master\u00a0Assets") == "'Master\\u00a0Assets'"
    assert shown("a\u200bb") == "'a\\u200bb'"
    assert shown("back\\slash") == "'back\\\\slash'"
    assert shown("\U0001d400") == "'\U0001d400'"
    assert shown("\U000e0001") == "'\\U000e0001'"
