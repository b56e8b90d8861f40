"""Barcode check digits for EAN-13, EAN-8, UPC-A and GTIN-14; Code128 text; GTIN-14
keys; in-store price and weight codes."""

from __future__ import annotations

import pytest

from shared.barcodes import (
    DEFAULT_MEASURE_SCHEME,
    MeasuredCode,
    MeasureKind,
    VariableMeasureScheme,
    barcode_error,
    gtin14,
    gtin_check_digit,
    is_valid_barcode,
    make_ean13,
)


@pytest.mark.parametrize("code", ["4006381333931", "8992761002015", "96385074", "036000291452"])
def test_valid_codes(code: str) -> None:
    assert barcode_error(code) is None


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("4006381333932", "EAN-13 check digit"),
        ("96385075", "EAN-8 check digit"),
        ("036000291453", "UPC-A check digit"),
        ("", "empty"),
        ("12345678901", "length"),
        ("ABC DEF", "printable"),
    ],
)
def test_invalid_codes_say_why(code: str, needle: str) -> None:
    err = barcode_error(code)
    assert err is not None and needle in err


def test_make_ean13_round_trips() -> None:
    code = make_ean13("899100000001")
    assert len(code) == 13 and is_valid_barcode(code)
    with pytest.raises(ValueError):
        make_ean13("123")


# -- GTIN-14 matching (GS1: right-aligned in 14 digits) ----------------------------------
@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("036000291452", "00036000291452"),  # UPC-A
        ("0036000291452", "00036000291452"),  # the same read as EAN-13
        ("00036000291452", "00036000291452"),  # and as GTIN-14
        ("8992761002015", "08992761002015"),  # EAN-13
        ("96385074", "00000096385074"),  # EAN-8: its own GTIN, never an EAN-13's
    ],
)
def test_gtin14_pads_every_form_to_one_key(code: str, key: str) -> None:
    assert gtin14(code) == key


@pytest.mark.parametrize(
    "code", ["036000291453", "0036000291453", "00036000291453", "T01-0001", "1234567", ""]
)
def test_gtin14_refuses_what_is_not_a_valid_gtin(code: str) -> None:
    assert gtin14(code) is None


def test_a_gtin_14_is_a_barcode_only_as_a_retail_code() -> None:
    assert barcode_error("00036000291452") is None
    err = barcode_error("00036000291453")
    assert err is not None and "GTIN-14 check digit" in err
    # Indicators 1–9 are cartons and cases: not rung up at a till, refused as before.
    err = barcode_error("10036000291459")
    assert err is not None and "length" in err
    # Digits other than ASCII 0–9 are not barcode digits.
    assert barcode_error("٠٣٦٠٠٠٢٩١٤٥٢") is not None


# -- in-store variable-measure codes ---------------------------------------------------
def test_default_scheme_reads_price_and_weight_labels() -> None:
    price = DEFAULT_MEASURE_SCHEME.parse(make_ean13("210004215500"))
    assert price == MeasuredCode(
        prefix="21",
        item_code="00042",
        kind=MeasureKind.PRICE,
        value=15_500,
        template="0" + make_ean13("210004200000"),
    )
    weight = DEFAULT_MEASURE_SCHEME.parse(make_ean13("251234501234"))
    assert weight is not None and (weight.kind, weight.value) == (MeasureKind.WEIGHT, 1234)
    assert weight.template == "0" + make_ean13("251234500000")
    kinds = {p: DEFAULT_MEASURE_SCHEME.prefixes[p] for p in ("02", "20", "24", "25", "29")}
    assert kinds == {
        "02": MeasureKind.PRICE,
        "20": MeasureKind.PRICE,
        "24": MeasureKind.PRICE,
        "25": MeasureKind.WEIGHT,
        "29": MeasureKind.WEIGHT,
    }


def test_scheme_reads_upc_a_number_system_2_as_prefix_02() -> None:
    body = "21234500750"
    code = body + str(gtin_check_digit(body))
    parsed = DEFAULT_MEASURE_SCHEME.parse(code)
    assert parsed is not None and (parsed.prefix, parsed.item_code, parsed.value) == (
        "02",
        "12345",
        750,
    )
    assert DEFAULT_MEASURE_SCHEME.parse("0" + code) == parsed  # the same read as EAN-13


def test_scheme_leaves_other_codes_alone() -> None:
    assert DEFAULT_MEASURE_SCHEME.parse("8992761002015") is None  # a national GTIN
    assert DEFAULT_MEASURE_SCHEME.parse("20123458") is None  # an EAN-8 is never a label
    bad = make_ean13("251234501234")
    assert DEFAULT_MEASURE_SCHEME.parse(bad[:12] + str((int(bad[12]) + 1) % 10)) is None
    assert VariableMeasureScheme({}).parse(make_ean13("251234501234")) is None


def test_scheme_layout_is_configurable_and_checked() -> None:
    scheme = VariableMeasureScheme({"23": MeasureKind.WEIGHT}, item_digits=4)
    parsed = scheme.parse(make_ean13("231234012345"))
    assert parsed is not None and (parsed.item_code, parsed.kind, parsed.value) == (
        "1234",
        MeasureKind.WEIGHT,
        12_345,
    )
    assert scheme.parse(make_ean13("211234012345")) is None
    with pytest.raises(ValueError, match="item_digits"):
        VariableMeasureScheme(item_digits=10)
    with pytest.raises(ValueError, match="two digits"):
        VariableMeasureScheme({"2": MeasureKind.PRICE})
