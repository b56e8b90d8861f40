"""``WireModel.of``: a schema filled from an object's attributes of the same names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from shared.models.common import WireModel


class Row(WireModel):
    id: int
    name: str
    note: str = ""


@dataclass
class Source:
    id: int
    name: str
    note: str
    unrelated: str = "not a field of Row"


def test_every_field_comes_from_the_attribute_of_its_name() -> None:
    row = Row.of(Source(id=7, name="Teh", note="dingin"))
    assert row == Row(id=7, name="Teh", note="dingin")


def test_given_values_take_the_place_of_attributes() -> None:
    row = Row.of(Source(id=7, name="Teh", note="dingin"), name="Kopi")
    assert (row.id, row.name, row.note) == (7, "Kopi", "dingin")


def test_a_field_the_source_lacks_must_be_given() -> None:
    @dataclass
    class NoNote:
        id: int
        name: str

    with pytest.raises(AttributeError):
        Row.of(NoNote(id=1, name="Teh"))
    assert Row.of(NoNote(id=1, name="Teh"), note="").note == ""


def test_values_are_validated_like_the_constructor() -> None:
    with pytest.raises(ValidationError):
        Row.of(Source(id=7, name="Teh", note="x"), id="not a number")
