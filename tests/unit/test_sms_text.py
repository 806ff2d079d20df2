"""SMS alphabet and segment counting (GSM 03.38 and UCS-2 rules)."""

from __future__ import annotations

import pytest

from notifications.sms_text import fits, is_gsm7, segments, utf16_units

DIGEST = "【计量台账】您有12台仪器将在7天内到期：…详情请登录系统查看。"


def test_field_notes_digest_is_ucs2_and_one_segment():
    assert not is_gsm7(DIGEST)
    # The field notes call a digest "like" this 67 units; the elided text itself is 32.
    assert utf16_units(DIGEST) == 32
    assert segments(DIGEST) == 1
    assert fits(DIGEST, max_segments=1)


def test_a_digest_padded_to_67_units_is_still_one_segment():
    padded = DIGEST[:-1] + "汉" * (67 - utf16_units(DIGEST)) + "。"
    assert utf16_units(padded) == 67
    assert segments(padded) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello @£$¥ èéùìò ÄÖÑÜ§¿ äöñüà ΔΦΓΛΩΠΨΣΘΞ", True),
        ("braces {} [ ] ~ | \\ ^ €", True),
        ("line\nbreak\rreturn\fformfeed", True),
        ("", True),
        ("仪器", False),
        ("cafá", False),  # é is in the GSM-7 set, á is not
        ("naïve", False),
        ("smile 🙂", False),
        ("`backtick`", False),
        ("\x1b", False),
    ],
)
def test_is_gsm7(text, expected):
    assert is_gsm7(text) is expected


def test_utf16_units_counts_an_emoji_twice():
    assert utf16_units("🙂") == 2
    assert utf16_units("a仪🙂") == 4
    assert utf16_units("") == 0


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_gsm7_segments(length, expected):
    assert segments("a" * length) == expected


def test_gsm7_extension_characters_count_two_septets():
    assert segments("€" * 80) == 1
    assert segments("€" + "a" * 159) == 2
    assert segments("a" * 159 + "{") == 2


def test_gsm7_escape_sequence_is_not_split_across_parts():
    # 152 + 2 + 152 = 306 septets fits two parts of 153 only if the escape pair could be split.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 151 + "€" + "a" * 153) == 2


@pytest.mark.parametrize(
    ("units", "expected"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_segments(units, expected):
    assert segments("仪" * units) == expected


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2():
    assert segments("a" * 70) == 1
    assert segments("a" * 69 + "仪") == 1
    assert segments("a" * 70 + "仪") == 2


def test_emoji_counts_two_units_at_the_boundary():
    assert segments("仪" * 68 + "🙂") == 1  # 70 units
    assert segments("仪" * 69 + "🙂") == 2  # 71 units


def test_surrogate_pair_is_not_split_across_parts():
    assert utf16_units("仪" * 66 + "🙂" + "仪" * 66) == 134
    assert segments("仪" * 66 + "🙂" + "仪" * 66) == 3
    assert segments("仪" * 65 + "🙂" + "仪" * 67) == 2


def test_empty_text_is_one_segment():
    assert segments("") == 1


@pytest.mark.parametrize(
    ("text", "max_segments", "expected"),
    [("仪" * 134, 2, True), ("仪" * 135, 2, False), ("仪" * 135, 3, True), ("a" * 306, 2, True)],
)
def test_fits(text, max_segments, expected):
    assert fits(text, max_segments) is expected
