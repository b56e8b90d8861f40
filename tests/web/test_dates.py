"""The back office's one date format: ``parse_web_date`` (dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy
and ISO yyyy-mm-dd; nothing else) and ``date_field_text`` (what a date box shows)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.messages import MESSAGES
from sync_server.web.forms import DATE_INVALID, date_field_text, parse_web_date

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("31/12/2025", date(2025, 12, 31)),
        ("01/02/2025", date(2025, 2, 1)),
        ("1/2/2025", date(2025, 2, 1)),
        ("01-02-2025", date(2025, 2, 1)),
        ("1-2-2025", date(2025, 2, 1)),
        ("29/02/2024", date(2024, 2, 29)),
        ("2025-02-01", date(2025, 2, 1)),
        ("  07/08/2026 ", date(2026, 8, 7)),
        ("", None),
        ("   ", None),
        (None, None),
        (date(2025, 5, 6), date(2025, 5, 6)),
    ],
)
def test_the_shapes_a_date_may_take(typed: object, meant: date | None) -> None:
    assert parse_web_date(typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "x",
        "31/02/2025",  # no such day
        "29/02/2025",
        "00/01/2025",
        "01/13/2025",
        "12/31/2025",  # the American order is not guessed at
        "1/1/25",  # two-digit years are refused
        "01/02-2025",  # mixed separators
        "2025/12/31",
        "2025-1-1",
        "01.02.2025",
        "01/02/2025 10:00",
        "٠١/٠٢/٢٠٢٥",  # digits other than 0-9
        "01/01/0001",  # outside the years a period may name
        "31/12/9999",
        "123/01/2025",
    ],
)
def test_anything_else_is_refused_in_indonesian(typed: str) -> None:
    with pytest.raises(ValueError, match="tidak dikenali: tulis dd/mm/yyyy") as refused:
        parse_web_date(typed)
    assert typed.strip() in str(refused.value)


def test_the_refusal_has_a_message_in_both_languages() -> None:
    assert "{value}" in MESSAGES["id"][DATE_INVALID]
    assert "{value}" in MESSAGES["en"][DATE_INVALID]


@given(DAYS)
def test_every_day_round_trips_through_each_shape(day: date) -> None:
    assert parse_web_date(date_field_text(day)) == day
    assert parse_web_date(f"{day:%d/%m/%Y}") == day
    assert parse_web_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_web_date(f"{day:%d-%m-%Y}") == day
    assert parse_web_date(day.isoformat()) == day
    assert date_field_text(day.isoformat()) == f"{day:%d/%m/%Y}"


@given(DAYS, DAYS)
def test_day_and_month_are_never_swapped(a: date, b: date) -> None:
    # dd/mm: the first number is always the day, even where both readings are dates.
    typed = f"{a.day:02d}/{b.month:02d}/{a.year}"
    try:
        found = parse_web_date(typed)
    except ValueError:
        return  # e.g. 31/04: no such day, refused
    assert found is not None and (found.day, found.month) == (a.day, b.month)


def test_what_a_date_box_shows() -> None:
    assert date_field_text(date(2025, 3, 1)) == "01/03/2025"
    assert date_field_text("2025-03-01") == "01/03/2025"
    assert date_field_text("1/3/2025") == "01/03/2025"
    assert date_field_text("") == date_field_text(None) == ""
    assert date_field_text("nonsense") == "nonsense"
