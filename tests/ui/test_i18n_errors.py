"""Every error a cashier can meet reads in Bahasa Indonesia, specifics kept (no Kivy window).

The sentences are found in the source with ``ast``: each ``raise SomeDomainError("...")``
or ``raise SomeDomainError(f"...")`` in ``pos_client/domain`` and ``pos_client/services``.
A new English error without a pattern in ``pos_client.ui.i18n`` fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pos_client.domain.errors
import pos_client.services.errors
import pos_client.services.qris
from pos_client.domain.errors import (
    ApprovalRequired,
    CartError,
    DomainError,
    PaymentError,
    RefundError,
    ShiftError,
    VoucherError,
)
from pos_client.services.errors import (
    AuthError,
    InvalidBarcode,
    NotAllowed,
    ProductNotFound,
    UserLocked,
    WrongPin,
)
from pos_client.services.qris import QrisError
from pos_client.ui import i18n
from pos_client.ui.i18n import describe, set_language

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pos_client/domain", "pos_client/services")

# Placeholders that hold a number (the rest hold names, codes, receipt numbers...).
NUMERIC_NAMES = {"seconds", "delay", "refundable", "MAX_QUANTITY", "limit", "failures"}
TEXT_SAMPLE = "Kopi Susu 1L"
NUMBER_SAMPLE = "7"
THOUSANDS_SAMPLE = ("12,500", "12.500")  # ``:,`` as Python writes it, as Indonesians read it


def _domain_errors() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    for module in (pos_client.domain.errors, pos_client.services.errors, pos_client.services.qris):
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, DomainError):
                found[name] = value
    return found


ERRORS = _domain_errors()


def _is_numeric(value: ast.FormattedValue) -> bool:
    if value.format_spec is not None or isinstance(value.value, ast.BinOp):
        return True
    last = value.value
    if isinstance(last, ast.Attribute):
        return last.attr in NUMERIC_NAMES
    return isinstance(last, ast.Name) and last.id in NUMERIC_NAMES


def _sample(node: ast.expr, *, all_numbers: bool) -> tuple[str, list[str]] | None:
    """An English message like the one ``node`` builds, and the values put in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, []
    if not isinstance(node, ast.JoinedStr):
        return None
    text, expected = "", []
    for part in node.values:
        if isinstance(part, ast.Constant):
            text += str(part.value)
            continue
        assert isinstance(part, ast.FormattedValue)
        spec = ast.unparse(part.format_spec) if part.format_spec is not None else ""
        if "," in spec:
            text += THOUSANDS_SAMPLE[0]
            expected.append(THOUSANDS_SAMPLE[1])
        elif all_numbers or _is_numeric(part):
            text += NUMBER_SAMPLE
            expected.append(NUMBER_SAMPLE)
        else:
            text += TEXT_SAMPLE
            expected.append(TEXT_SAMPLE)
    return text, expected


def _raises() -> Iterator[tuple[str, type[DomainError], ast.expr]]:
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                    continue
                func = node.exc.func
                if not isinstance(func, ast.Name) or func.id not in ERRORS or not node.exc.args:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                yield where, ERRORS[func.id], node.exc.args[0]


RAISES = list(_raises())
MESSAGE_RAISES = [
    (where, cls, arg)
    for where, cls, arg in RAISES
    if isinstance(arg, ast.JoinedStr)
    or (isinstance(arg, ast.Constant) and isinstance(arg.value, str))
]


def _error(cls: type[DomainError], message: str) -> DomainError:
    """An instance of ``cls`` carrying ``message`` (extra keyword fields filled in)."""
    if issubclass(cls, QrisError):
        return cls(message, message)
    if cls is WrongPin:
        return WrongPin(message, attempts_left=3)
    if cls is UserLocked:
        return UserLocked(message, until=datetime.now(UTC))
    if cls is ApprovalRequired:
        return ApprovalRequired(message, amount=1, base=2, threshold_bp=1000)
    return cls(message)


@pytest.fixture(autouse=True)
def _indonesian() -> Iterator[None]:
    before = i18n.language()
    set_language("id")
    yield
    set_language(before)


def test_the_scan_finds_the_raises() -> None:
    # A guard that the ast walk still sees the code (say, after a move of the modules).
    assert len(MESSAGE_RAISES) >= 50
    assert {cls for _, cls, _ in MESSAGE_RAISES} >= {
        CartError,
        PaymentError,
        RefundError,
        ShiftError,
        VoucherError,
        AuthError,
        ApprovalRequired,
        InvalidBarcode,
        ProductNotFound,
        NotAllowed,
    }


@pytest.mark.parametrize("all_numbers", [False, True], ids=["typed", "numbers"])
@pytest.mark.parametrize(
    ("where", "cls", "arg"), MESSAGE_RAISES, ids=[where for where, _, _ in MESSAGE_RAISES]
)
def test_every_raised_message_reads_in_indonesian(
    where: str, cls: type[DomainError], arg: ast.expr, all_numbers: bool
) -> None:
    sample = _sample(arg, all_numbers=all_numbers)
    assert sample is not None
    message, values = sample
    shown = describe(_error(cls, message))
    if issubclass(cls, QrisError):
        assert shown == message  # QRIS errors are written in Bahasa Indonesia already
        return
    assert shown != message, f"{where}: no Indonesian for {message!r}"
    assert i18n.translate_message_id(message) is not None, f"{where}: no pattern for {message!r}"
    for value in values:
        assert value in shown, f"{where}: {value!r} lost from {message!r} → {shown!r}"


def test_english_keeps_the_message() -> None:
    set_language("en")
    for _, cls, arg in MESSAGE_RAISES:
        sample = _sample(arg, all_numbers=False)
        assert sample is not None
        error = _error(cls, sample[0])
        assert describe(error) == str(error)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            PaymentError("Rp12,500 more is needed."),
            "Uang masih kurang Rp12.500.",
        ),
        (
            RefundError("Only 2 of Kopi Susu can still be refunded."),
            "Hanya 2 dari Kopi Susu yang masih bisa diretur.",
        ),
        (
            RefundError("Only 1 of this line can still be refunded."),
            "Hanya 1 dari baris ini yang masih bisa diretur.",
        ),
        (
            RefundError("No sale K01-000123 on this till."),
            "Penjualan K01-000123 tidak ada di kasir ini.",
        ),
        (
            RefundError("cannot refund more than was sold"),  # shared.pricing via refunds
            "Tidak bisa meretur lebih dari yang terjual.",
        ),
        (
            VoucherError("Voucher HEMAT10 needs a minimum spend of Rp100,000."),
            "Voucher HEMAT10 perlu belanja minimal Rp100.000.",
        ),
        (
            CartError("Quantity must be between 1 and 9,999."),
            "Jumlah harus antara 1 dan 9.999.",
        ),
        (
            ApprovalRequired(
                "A supervisor must approve the discount on Teh Botol (above 12.5%).",
                amount=1,
                base=2,
                threshold_bp=1250,
            ),
            "Supervisor harus menyetujui diskon untuk Teh Botol (di atas 12,5%).",
        ),
        (
            ApprovalRequired(
                "A supervisor must approve the order discount (above 10%).",
                amount=1,
                base=2,
                threshold_bp=1000,
            ),
            "Supervisor harus menyetujui diskon transaksi (di atas 10%).",
        ),
        (
            NotAllowed("Budi cannot approve this; a manager must."),
            "Budi tidak boleh menyetujui ini; harus manajer.",
        ),
        (
            WrongPin("Wrong PIN; 2 tries left.", attempts_left=2),
            "PIN salah; sisa 2 percobaan.",
        ),
        (
            UserLocked("Wrong PIN. Ibu Sari is locked for 30 s.", until=datetime.now(UTC)),
            "PIN salah. Ibu Sari terkunci selama 30 detik.",
        ),
        (
            InvalidBarcode("Cannot read that barcode: EAN-13 check digit is wrong (expected 4)."),
            "Barcode tidak terbaca: digit cek EAN-13 salah (seharusnya 4).",
        ),
        (
            ProductNotFound("No product has barcode or SKU ABC-1."),
            "Produk dengan barcode atau SKU ABC-1 tidak ditemukan.",
        ),
        (
            ProductNotFound("No product has barcode 8991234567890."),
            "Produk dengan barcode 8991234567890 tidak ditemukan.",
        ),
        (ShiftError("No shift is open."), "Belum ada shift yang dibuka."),
    ],
)
def test_specific_messages(error: DomainError, expected: str) -> None:
    assert describe(error) == expected


def test_unknown_messages_fall_back_to_the_code_then_the_text() -> None:
    assert describe(WrongPin("Wrong PIN.", attempts_left=3)) == "PIN salah. Sisa 3 kali percobaan."
    assert describe(CartError("Something new.")) == "Something new."
    assert describe(ValueError("plain")) == "plain"
