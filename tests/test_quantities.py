"""Tests for numbers and dates normalised from French and English claims."""

from __future__ import annotations

import pytest

from workbench.extract.quantities import find_dates, find_numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 550 ogives", [("1 550", 1550.0, "")]),
        ("1,550 warheads", [("1,550", 1550.0, "")]),
        ("une hausse de 5,2 %", [("5,2 %", 5.2, "percent")]),
        ("a rise of 5.2%", [("5.2%", 5.2, "percent")]),
        ("27,5 milliards de dollars", [("27,5 milliards de dollars", 27.5e9, "USD")]),
        ("$27.5 billion", [("$27.5 billion", 27.5e9, "USD")]),
        ("500 to 5,500 kilometres", [("500", 500.0, ""), ("5,500 kilometres", 5500.0, "km")]),
        ("the 2020 election", []),  # a year is a date, not a quantity
    ],
)  # fmt: skip
def test_numbers(text: str, expected: list[tuple[str, float, str]]) -> None:
    found = find_numbers(text)
    assert [(f.text, f.value, f.unit) for f in found] == expected
    for f in found:
        assert text[f.start : f.end] == f.text


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("le 3 mai, Trump a appelé", 2019, [("3 mai", "2019-05-03")]),
        ("le 3 mai, Trump a appelé", None, [("3 mai", "--05-03")]),
        ("3 May 2019, May 14, 2019", None, [("3 May 2019", "2019-05-03"), ("May 14, 2019", "2019-05-14")]),  # noqa: E501
        ("au mois de juin, lors du sommet du G20", 2019, [("au mois de juin", "2019-06")]),
        ("en juin 2019", None, [("en juin 2019", "2019-06")]),
        ("the 2020 election", None, [("2020", "2020")]),
        ("It may rain", None, []),
        ("le 1er juin", 2019, [("1er juin", "2019-06-01")]),
    ],
)  # fmt: skip
def test_dates(text: str, year: int | None, expected: list[tuple[str, str]]) -> None:
    found = find_dates(text, year)
    assert [(f.text, f.value) for f in found] == expected
    for f in found:
        assert text[f.start : f.end] == f.text
