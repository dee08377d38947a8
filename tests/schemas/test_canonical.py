"""Canonical JSON: the fast path writes exactly what the RFC 8785 reference writes."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.canonical import canonical_json

# Every character class that escapes differently somewhere: controls, quotes, backslash,
# DEL, U+2028, non-BMP, and keys outside ASCII (sorted by UTF-16 units in RFC 8785).
TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["\x00\x07\x08\t\n\x0b\x0c\r\x1f", '"\\/', "\x7f\u2028\u2029", "\U0001f600\ue000", ""]
)
SCALARS = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | TEXT
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400)
@given(VALUES)
def test_the_fast_path_equals_the_reference_implementation(value):
    try:
        expected = bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError):
        return  # not JSON RFC 8785 can write (a huge integer): no bytes to compare
    assert canonical_json(value) == expected


def test_floats_and_non_ascii_keys_take_the_reference_path():
    value = {"é": 1, "a": [1.5, 2e21], "\U0001f600": "x", "\ue000": "y"}
    assert canonical_json(value) == bytes(rfc8785.dumps(value))
