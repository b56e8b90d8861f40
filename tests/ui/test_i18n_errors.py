"""Every error a cashier can meet has a message in both languages, specifics kept (no window).

The codes are found in the source with ``ast``: each ``SomeError("code", ...)`` (raised
or kept) of a :class:`~shared.errors.CodedError` subclass in ``pos_client/`` and
``shared/``, and each such class's own ``code``. A new code without a message in
``shared/messages/id.py`` and ``en.py`` fails here; so does a message whose fields
differ between the two languages.
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
import pos_client.sync.http
import pos_client.sync.payments_client
import shared.pricing
from pos_client.domain.errors import (
    ApprovalRequired,
    CartError,
    PaymentError,
    RefundError,
    ShiftError,
    VoucherError,
)
from pos_client.services.errors import (
    InvalidBarcode,
    NotAllowed,
    ProductNotFound,
    UserLocked,
    WrongPin,
)
from pos_client.sync.client import Offline, ServerRejected
from pos_client.ui import i18n
from pos_client.ui.i18n import describe, set_language
from shared.barcodes import barcode_problem
from shared.errors import CodedError
from shared.messages import MESSAGES, render, template_fields
from shared.messages import en as en_module
from shared.messages import id as id_module

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pos_client", "shared")
SERVER_MARKER = "# -- server --"
_MODULES = (
    pos_client.domain.errors,
    pos_client.services.errors,
    pos_client.services.qris,
    pos_client.sync.http,
    pos_client.sync.payments_client,
    shared.pricing,
)


def _coded_classes() -> dict[str, type[CodedError]]:
    found: dict[str, type[CodedError]] = {"CodedError": CodedError}
    for module in _MODULES:
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, CodedError):
                found[name] = value
    return found


CLASSES = _coded_classes()


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _coded_calls() -> Iterator[tuple[str, str]]:
    """(where, code) of every ``SomeCodedError("code", ...)`` in the sources."""
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or _called_name(node) not in CLASSES:
                    continue
                if not node.args:
                    continue
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", first.value


CALLS = list(_coded_calls())
# Codes chosen away from the raise: the discount approvals and the barcode problems.
INDIRECT = {"approval_required_line", "approval_required_order"} | {
    problem[0]
    for code in ("", "4006381333932", "96385075", "1234567", "ABC DEF")
    if (problem := barcode_problem(code)) is not None
}


def _keys_by_part(path: str) -> tuple[set[str], set[str]]:
    """The codes of a message module above (the till's) and below the server marker."""
    source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    marker = next(n for n, line in enumerate(lines, start=1) if line.strip() == SERVER_MARKER)
    above: set[str] = set()
    below: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    (above if key.lineno < marker else below).add(key.value)
    return above, below


@pytest.fixture(autouse=True)
def _indonesian() -> Iterator[None]:
    before = i18n.language()
    set_language("id")
    yield
    set_language(before)


def test_the_scan_finds_the_raises() -> None:
    # A guard that the ast walk still sees the code (say, after a move of the modules).
    assert len(CALLS) >= 80
    assert {"cart_empty", "voucher_min_spend", "wrong_pin", "qris_offline"} <= {c for _, c in CALLS}
    assert {"CartError", "PricingError", "ServerRejected", "QrisError"} <= set(CLASSES)


@pytest.mark.parametrize(("where", "code"), CALLS, ids=[where for where, _ in CALLS])
def test_every_raised_code_has_a_message_in_both_languages(where: str, code: str) -> None:
    assert code in MESSAGES["id"], f"{where}: no Bahasa Indonesia message for {code!r}"
    assert code in MESSAGES["en"], f"{where}: no English message for {code!r}"


def test_every_class_code_and_indirect_code_has_both_messages() -> None:
    codes = {cls.code for cls in CLASSES.values()} | INDIRECT
    for code in codes:
        assert code in MESSAGES["id"] and code in MESSAGES["en"], code


def test_both_tables_have_the_same_codes_above_and_below_the_server_marker() -> None:
    id_till, id_server = _keys_by_part(id_module.__file__)
    en_till, en_server = _keys_by_part(en_module.__file__)
    assert id_till == en_till
    assert id_server == en_server
    assert set(MESSAGES["id"]) == set(MESSAGES["en"]) == id_till | id_server


@pytest.mark.parametrize("code", sorted(MESSAGES["en"]))
def test_each_message_has_the_same_fields_in_both_languages(code: str) -> None:
    assert template_fields(MESSAGES["id"][code]) == template_fields(MESSAGES["en"][code])


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PaymentError("cash_short", amount=12_500), "Uang masih kurang Rp12.500."),
        (
            RefundError("refund_only_left", left=2, name="Kopi Susu"),
            "Hanya 2 dari Kopi Susu yang masih bisa diretur.",
        ),
        (
            RefundError("refund_only_left_line", left=1),
            "Hanya 1 dari baris ini yang masih bisa diretur.",
        ),
        (
            RefundError("sale_not_found", number="K01-000123"),
            "Penjualan K01-000123 tidak ada di kasir ini.",
        ),
        (RefundError("pricing_refund_too_many"), "Tidak bisa meretur lebih dari yang terjual."),
        (
            VoucherError("voucher_min_spend", code="HEMAT10", amount=100_000),
            "Voucher HEMAT10 perlu belanja minimal Rp100.000.",
        ),
        (
            CartError("quantity_out_of_range", low=1, high=9_999),
            "Jumlah harus antara 1 dan 9.999.",
        ),
        (
            ApprovalRequired(
                "approval_required_line", amount=1, base=2, threshold_bp=1250, product="Teh Botol"
            ),
            "Penyelia harus menyetujui diskon untuk Teh Botol (di atas 12,5%).",
        ),
        (
            ApprovalRequired("approval_required_order", amount=1, base=2, threshold_bp=1000),
            "Penyelia harus menyetujui diskon transaksi (di atas 10%).",
        ),
        (
            NotAllowed("not_allowed", name="Budi", role="manager"),
            "Budi tidak boleh menyetujui ini; harus manajer.",
        ),
        (WrongPin("wrong_pin", attempts_left=2), "PIN salah; sisa 2 percobaan."),
        (
            UserLocked("wrong_pin_locked", until=datetime.now(UTC), name="Ibu Sari", seconds=30),
            "PIN salah. Ibu Sari terkunci selama 30 detik.",
        ),
        (
            InvalidBarcode(
                "barcode_unreadable", problem="barcode_check_digit", kind="EAN-13", digit=4
            ),
            "Barcode tidak terbaca: digit cek EAN-13 salah (seharusnya 4).",
        ),
        (
            ProductNotFound("product_not_found_code", code="ABC-1"),
            "Produk dengan barcode atau SKU ABC-1 tidak ditemukan.",
        ),
        (ShiftError("no_open_shift"), "Belum ada shift yang dibuka."),
    ],
)
def test_specific_messages(error: CodedError, expected: str) -> None:
    assert describe(error) == expected


def test_english_is_the_sentence_the_till_always_wrote() -> None:
    set_language("en")
    assert describe(PaymentError("cash_short", amount=12_500)) == "Rp12,500 more is needed."
    assert describe(NotAllowed("not_allowed", name="Budi", role="manager")) == (
        "Budi cannot approve this; a manager must."
    )
    approval = ApprovalRequired(
        "approval_required_line", amount=1, base=2, threshold_bp=1250, product="Teh Botol"
    )
    assert str(approval) == "A supervisor must approve the discount on Teh Botol (above 12.5%)."
    assert describe(approval) == str(approval)


def test_anything_without_a_code_reads_as_a_plain_sentence() -> None:
    assert describe(ValueError("Traceback: KeyError 'x'")) == render("error", {}, "id")
    set_language("en")
    assert describe(OSError("disk full")) == "Something went wrong."


def test_a_server_refusal_reads_as_the_servers_code_when_the_tables_know_it() -> None:
    known = ServerRejected(
        "Voucher HEMAT10 has expired.", status_code=422, code="voucher_expired",
        details={"code": "HEMAT10"},
    )  # fmt: skip
    assert describe(known) == "Voucher HEMAT10 sudah kedaluwarsa."
    assert known.message == str(known) == "Voucher HEMAT10 has expired."  # logs keep it
    unknown = ServerRejected("Too big", status_code=413, code="payload_too_big", details=None)
    assert describe(unknown) == "Server menolak ini: Too big"
    assert unknown.code == "payload_too_big"
    assert describe(Offline("Server unreachable: ConnectError")) == (
        "Server tidak terjangkau sekarang; kasir tetap bekerja offline."
    )
