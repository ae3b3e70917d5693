"""domain/text.py: the one check of free text people read (titles, payment
references)."""

from __future__ import annotations

import pytest

from domain.errors import BadInput, BadText
from domain.text import require_plain_text, text_problem


@pytest.mark.parametrize(
    "text",
    [
        "abc\u202egpj.exe",  # right-to-left override: shows as "abcexe.jpg"
        *(f"a{chr(c)}b" for c in range(0x202A, 0x202F)),
        *(f"a{chr(c)}b" for c in range(0x2066, 0x206A)),
        "a\u200eb",
        "a\u200fb",
        "a\u061cb",
    ],
)
def test_bidirectional_controls_are_refused(text):
    assert text_problem(text).startswith("must not contain bidirectional control characters (U+")


@pytest.mark.parametrize("text", ["ref\x00", "a\tb", "a\x1fb", "a\x7fb", "a\x85b", "a\x9fb", "a\u2028b", "a\u2029b"])
def test_control_characters_c0_del_c1_and_line_separators_are_refused(text):
    assert text_problem(text).startswith("must not contain control characters (U+")


def test_the_message_names_the_character_and_where_it_is():
    assert text_problem("ab\x00") == "must not contain control characters (U+0000 at character 3)"
    assert "U+202E at character 4" in text_problem("abc\u202egpj.exe")


@pytest.mark.parametrize(
    "text",
    [" ", "\u3000", "\u200b", "\u200b\u200c\u200d", "\u2060", "\ufeff", "\u00ad", " \u200b ", "\u3164", "\u115f\u1160"],
)
def test_a_text_of_only_invisible_characters_is_refused(text):
    assert text_problem(text) == "must contain a visible character (it holds only whitespace or invisible characters)"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain title",
        "한국어 제목 뮤직비디오",
        '=1+2, "quoted"',
        "family \U0001f468\u200d\U0001f469\u200d\U0001f467",  # zero-width joiners inside an emoji
        "co\u00adoperate",  # a soft hyphen between letters
        "العربية",  # right-to-left letters are text, not controls
        "x" * 500,
    ],
)
def test_ordinary_texts_pass(text):
    assert text_problem(text) is None


def test_require_plain_text_raises_a_bad_input_naming_the_field():
    with pytest.raises(BadText) as err:
        require_plain_text("abc\u202egpj.exe", "title")
    assert isinstance(err.value, BadInput) and str(err.value).startswith("title: must not contain bidirectional")
    require_plain_text("fine", "title")
