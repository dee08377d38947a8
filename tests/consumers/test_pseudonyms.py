"""Keyed pseudonyms: format, stability, normalisation, separation by kind and by key."""

from __future__ import annotations

import re

import pytest

from consumers.pseudonyms import Pseudonymiser, normalise
from schemas.errors import ConfigurationError
from schemas.personal import DataKind

SECRET = b"regional-secret-for-tests-0001"
OTHER_SECRET = b"regional-secret-for-tests-0002"


@pytest.fixture
def psn() -> Pseudonymiser:
    return Pseudonymiser(SECRET, "k2026")


def test_format_names_the_key_and_hides_the_value(psn: Pseudonymiser) -> None:
    out = psn.pseudonym(DataKind.DOCUMENT_NUMBER, "P1234567")
    assert re.fullmatch(r"psn:k2026:[0-9a-f]{32}", out)
    assert "1234567" not in out


def test_same_value_gives_the_same_pseudonym_in_separate_instances() -> None:
    # Two workers (or two agencies' events) with the regional secret agree.
    first = Pseudonymiser(SECRET, "k2026").pseudonym(DataKind.BIOMETRIC_REF, "EURODAC-77")
    second = Pseudonymiser(SECRET, "k2026").pseudonym(DataKind.BIOMETRIC_REF, "EURODAC-77")
    assert first == second


@pytest.mark.parametrize(
    ("a", "b"),
    [("AB 123-45", "ab12345"), ("  ab-123 45 ", "AB12345"), ("ab\t123\n45", "AB-12-345")],
)
def test_normalisation_links_spellings_of_one_number(psn: Pseudonymiser, a: str, b: str) -> None:
    assert normalise(a) == normalise(b) == "AB12345"
    assert psn.pseudonym(DataKind.DOCUMENT_NUMBER, a) == psn.pseudonym(DataKind.DOCUMENT_NUMBER, b)


def test_different_values_differ(psn: Pseudonymiser) -> None:
    assert psn.pseudonym(DataKind.DOCUMENT_NUMBER, "AB12345") != psn.pseudonym(
        DataKind.DOCUMENT_NUMBER, "AB12346"
    )


def test_a_plate_and_a_document_with_the_same_text_do_not_collide(psn: Pseudonymiser) -> None:
    outs = {psn.pseudonym(kind, "BG 1234 AB") for kind in DataKind}
    assert len(outs) == len(DataKind)


def test_rotation_new_key_id_and_secret_gives_unlinkable_pseudonyms() -> None:
    old = Pseudonymiser(SECRET, "k2026").pseudonym(DataKind.DOCUMENT_NUMBER, "AB12345")
    new = Pseudonymiser(OTHER_SECRET, "k2027").pseudonym(DataKind.DOCUMENT_NUMBER, "AB12345")
    assert old != new
    assert old.split(":")[2] != new.split(":")[2]


def test_key_id_alone_separates_pseudonyms_even_with_the_same_secret() -> None:
    a = Pseudonymiser(SECRET, "k1").pseudonym(DataKind.PHONE, "+38761000000")
    b = Pseudonymiser(SECRET, "k2").pseudonym(DataKind.PHONE, "+38761000000")
    assert a.split(":")[2] != b.split(":")[2]


def test_the_secret_matters() -> None:
    a = Pseudonymiser(SECRET, "k1").pseudonym(DataKind.VEHICLE_PLATE, "BG1234AB")
    b = Pseudonymiser(OTHER_SECRET, "k1").pseudonym(DataKind.VEHICLE_PLATE, "BG1234AB")
    assert a != b


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        Pseudonymiser(b"short", "k1")


@pytest.mark.parametrize("key_id", ["", "has:colon", "x" * 33, "spa ce"])
def test_a_key_id_that_would_break_the_format_is_refused(key_id: str) -> None:
    with pytest.raises(ConfigurationError, match="key id"):
        Pseudonymiser(SECRET, key_id)


def test_repr_does_not_show_the_secret(psn: Pseudonymiser) -> None:
    assert "regional-secret" not in repr(psn)
    assert "k2026" in repr(psn)
