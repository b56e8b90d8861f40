"""No English on the Indonesian till: every label, every till message template, the
payment and role names, the shift report and the receipt, rendered in Bahasa Indonesia,
are checked against a list of English words a cashier would otherwise meet."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from pos_client.domain.shifts import ShiftFigures, ShiftReport
from pos_client.ui import i18n
from pos_client.ui.glue import held_label, report_rows, role_name
from shared.messages import MESSAGES
from shared.models import PaymentMethod, Role
from shared.receipt_text import (
    PAYMENT_LABELS,
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptStore,
    payment_label,
    render_receipt,
)
from shared.timezones import store_zone

ROOT = Path(__file__).resolve().parents[2]

ENGLISH = (
    "items?", "cash", "cashiers?", "managers?", "supervisors?", "admin", "refunds?",
    "void", "voided", "held", "hold", "paid", "unpaid", "expired", "pending", "failed",
    "sales?", "receipts?", "change", "cancel", "cancelled", "print", "reprint", "login",
    "logout", "settings", "waiting", "rejected", "stuck", "approve", "approved", "discount",
    "amount", "static", "drawer", "count", "report", "none", "error",
)  # fmt: skip
"""Words that give English away on a till (case-insensitive, whole words)."""

ALLOWED = ("QRIS", "PIN", "SKU", "Rp", "OK", "Tripay", "NPWP", "PPN", "ESC/POS", "USB")
"""Brand and standard words a Bahasa Indonesia till uses as they are."""

_ENGLISH = re.compile(r"\b(?:" + "|".join(ENGLISH) + r")\b", re.IGNORECASE)
_FIELD = re.compile(r"{[^{}]*}")
_ALLOWED = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in ALLOWED) + r")\b")


def english_words(text: str) -> list[str]:
    """The English words in ``text``, leaving template fields and allowed words aside."""
    return _ENGLISH.findall(_ALLOWED.sub(" ", _FIELD.sub(" ", text)))


def till_message_codes() -> list[str]:
    """The codes of shared/messages/id.py the till shows (above the server marker)."""
    source = (ROOT / "shared" / "messages" / "id.py").read_text(encoding="utf-8")
    till_part = source.split("# -- server --", 1)[0]
    return re.findall(r'^\s+"(\w+)":', till_part, flags=re.MULTILINE)


def kv_texts() -> list[tuple[str, str]]:
    """Quoted text and hints written straight into the till's kv files."""
    found = []
    for path in sorted((ROOT / "pos_client" / "ui" / "kv").glob("*.kv")):
        source = path.read_text(encoding="utf-8")
        for text in re.findall(r'(?:text|hint_text|title): "([^"]*)"', source):
            found.append((path.name, text))
    return found


def sample_receipt() -> str:
    store = ReceiptStore(name="Toko Maju", address="Jl. Sudirman 1", npwp="01.2", phone="021")
    receipt = ReceiptData(
        store=store,
        receipt_number="T01-20250616-0001",
        created_at=datetime(2025, 6, 15, 23, 30, tzinfo=UTC),
        cashier_name="Sari",
        lines=(ReceiptLine("Teh Botol", 2, 5000, discount=500, total=9500),),
        subtotal=10000,
        discount_total=500,
        tax_total=0,
        tax_inclusive=False,
        total=9500,
        payments=(
            ReceiptPayment("qris", 5000, reference="T123"),
            ReceiptPayment("qris_static", 1000),
            ReceiptPayment("cash", 3500, tendered=5000, change=1500),
        ),
    )
    return render_receipt(receipt, width=32) + "\n" + render_receipt(receipt, reprint=True)


def sample_report_labels() -> list[str]:
    figures = ShiftFigures(
        opening_float=100000,
        payments_by_method={"cash": 3500, "qris": 5000, "qris_static": 1000},
    )
    report = ShiftReport(
        "Z",
        shift_id=uuid4(),
        user_id=1,
        opened_at=datetime(2025, 6, 15, 23, 30, tzinfo=UTC),
        generated_at=datetime(2025, 6, 16, 8, 0, tzinfo=UTC),
        figures=figures,
        closed_at=datetime(2025, 6, 16, 8, 0, tzinfo=UTC),
        counted_cash=103500,
    )
    return [label for label, _value in report_rows(report, store_zone(None))]


def visible_indonesian() -> list[tuple[str, str]]:
    """Everything the Indonesian till shows that this test can render, as (where, text)."""
    shown = [(f"i18n:{k}", v) for k, v in i18n.STRINGS["id"].items()]
    shown += [(f"message:{code}", MESSAGES["id"][code]) for code in till_message_codes()]
    shown += [(f"payment:{m}", payment_label(m)) for m in PaymentMethod]
    shown += [(f"payment:{m}", label) for m, label in PAYMENT_LABELS.items()]
    shown += [(f"role:{r}", role_name(r)) for r in Role]
    shown += [("held label", held_label("3 items"))]
    shown += [("report", label) for label in sample_report_labels()]
    shown += [("receipt", sample_receipt())]
    shown += [(f"kv:{name}", text) for name, text in kv_texts()]
    return shown


@pytest.fixture(autouse=True)
def indonesian() -> None:
    i18n.set_language("id")


def test_the_english_word_list_catches_english_and_spares_allowed_words() -> None:
    assert english_words("Transaksi ditahan: 3 items") == ["items"]
    assert english_words("CASH Rp 5.000") == ["CASH"]
    assert english_words("Ibu Sari (cashier)") == ["cashier"]
    assert english_words("QR expired") == ["expired"]
    assert english_words("Bayar QRIS lewat Tripay, PIN, SKU, Rp, OK") == []
    assert english_words("Penjualan {receipt}") == [], "template fields are not shown"
    assert english_words("Kasir itemnya") == [], "whole words only"


def test_every_indonesian_text_on_the_till_is_free_of_english() -> None:
    shown = visible_indonesian()
    assert len(shown) > 400, "the test must see the whole till, not a handful of labels"
    leaks = [(where, text) for where, text in shown if english_words(text)]
    assert leaks == []


def test_payment_codes_and_roles_never_show_as_codes() -> None:
    assert payment_label("qris_static") == "QRIS statis"
    assert payment_label("QRIS_STATIC") == "QRIS statis"
    assert payment_label("cash") == "Tunai"
    assert [role_name(r) for r in Role] == ["Kasir", "Penyelia", "Manajer", "Administrator"]
    assert held_label("3 items") == "3 barang"
