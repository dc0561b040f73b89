"""Numbers as people type them, shared by the project form and the Excel import."""

from decimal import Decimal

import pytest

from planapp.intake.values import ValueRefused, parse_baht, parse_whole_number


@pytest.mark.parametrize(
    ("typed", "satang"),
    [
        (150000, 150_000_00),
        (150000.5, 150_000_50),
        (Decimal("99.99"), 99_99),
        ("150,000", 150_000_00),
        ("150000.00", 150_000_00),
        (" 1,234,567.5 ", 1_234_567_50),
        ("150,000.-", 150_000_00),
        ("150,000 บาท", 150_000_00),
        ("๑๕๐,๐๐๐", 150_000_00),
        ("๑๒.๕๐", 12_50),
        ("0", 0),
        ("\u00a0500\u00a0", 500_00),
    ],
)
def test_budgets_people_type_are_read(typed, satang):
    assert parse_baht(typed) == satang


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        None,
        "-1",
        "−5",
        -0.5,
        "ห้าหมื่น",
        "1,50,000",
        "12.345",
        "1e5",
        "NaN",
        True,
        "1" * 20,
    ],
)
def test_budgets_that_are_not_amounts_are_refused(typed):
    with pytest.raises(ValueRefused):
        parse_baht("" if typed is None else typed)


def test_whole_numbers():
    assert parse_whole_number("๓") == 3
    assert parse_whole_number(" 12 ") == 12
    assert parse_whole_number(4.0) == 4
    assert parse_whole_number("") is None
    for bad in ["3.5", "สาม", 2.5]:
        with pytest.raises(ValueRefused):
            parse_whole_number(bad)
