"""What a run of the demo till (``pos_client.demo``, as source or frozen) must show: its
receipt on stdout, and its one sale applied on the server."""

from __future__ import annotations

from sqlalchemy import select

from pos_client.demo import DEMO_BARCODES, RECEIPT_WIDTH
from shared.money import format_rupiah
from sync_server.catalog.demo import demo_items
from sync_server.sync.models import Sale, SaleLine, SyncEvent
from tests.e2e.conftest import LiveServer


def check_demo_sale(out: str, live_server: LiveServer, terminal: str) -> list[str]:
    """Check the demo's stdout ``out`` (terminal ``terminal``, a first sale): the receipt
    fits its width and names the demo items and the cashier, and the server applied that
    very sale with the same lines and total. Returns the receipt's lines."""
    printed = out.splitlines()
    start = next(i for i, line in enumerate(printed) if line.startswith("Catalog:")) + 1
    end = next(i for i, line in enumerate(printed) if line.startswith("Server:"))
    receipt = printed[start:end]
    assert "=" * RECEIPT_WIDTH in receipt
    assert all(len(line) <= RECEIPT_WIDTH for line in receipt)
    names = {item.barcode: item.name for item in demo_items()}
    for barcode in DEMO_BARCODES:
        assert names[barcode] in out
    assert any(line.startswith("Kasir") and "Siti Rahmawati" in line for line in receipt)

    number_line = next(line for line in receipt if line.startswith("No."))
    receipt_number = number_line.split()[-1]
    assert receipt_number.startswith(f"{terminal}-")
    assert f"Server: sale {receipt_number} applied" in out
    assert "waiting 0" in out
    with live_server.db.session() as session:
        sale = session.scalars(select(Sale).where(Sale.receipt_number == receipt_number)).one()
        lines = session.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id)).all()
        assert sorted(line.name for line in lines) == sorted(names[b] for b in DEMO_BARCODES)
        total_line = next(line for line in receipt if line.startswith("TOTAL"))
        assert total_line.endswith(format_rupiah(sale.total))
    assert live_server.count(SyncEvent, type="sale") == 1
    return receipt
