"""A whole day at the till in one command, with no display: enroll, download, sell, sync.

``python -m pos_client.demo --server http://127.0.0.1:8000 --enroll-code CODE --data-dir DIR``

Against a server seeded with ``kasir-server seed-demo`` it enrolls this till with the
manager's one-time code, downloads the catalog (a text progress bar on stderr), logs
cashier ``siti`` in with PIN 1111, opens a shift, scans three demo products by barcode,
takes cash with change, prints the receipt (42 columns) to stdout, syncs, and prints
the server's answer for each event. It uses the same services, store and sync worker as
the Kivy app and never imports Kivy. Run it again with the same ``--data-dir`` and it
skips enrollment and the download and sells again.

Exit status: 0 when the server applied (or already had) every event, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

import httpx

from pos_client.config import ClientSettings
from pos_client.domain.errors import DomainError
from pos_client.services import AuthService, CatalogService, CheckoutService, ShiftService
from pos_client.services.errors import AuthError
from pos_client.services.receipts import receipt_for_sale
from pos_client.store import LocalStore
from pos_client.sync.client import SyncClient, SyncError, enroll
from pos_client.sync.worker import SyncWorker
from shared.models import EventResult, EventStatus, OutboxEvent, PushResponse, SaleIn
from shared.receipt_text import (
    render_receipt,
)

DEMO_BARCODES = ("8990010000010", "8990020000017", "8990030000014")
"""Aqua 600ml, Chitato Sapi Panggang 68g and Indomie Goreng 85g in the demo catalog."""

OPENING_FLOAT = 200_000
RECEIPT_WIDTH = 42


class RecordingClient(SyncClient):
    """A :class:`SyncClient` that keeps every push answer, to show what the server said."""

    def __init__(self, http: httpx.Client, *, base_url: str, token: str) -> None:
        """Talk to ``base_url`` with ``token`` and start with no answers."""
        super().__init__(http, base_url=base_url, token=token)
        self.results: list[EventResult] = []
        self.sent: dict[str, OutboxEvent] = {}

    def push(
        self, events: Sequence[OutboxEvent], waiting: int | None = None, stuck: int | None = None
    ) -> PushResponse:
        """Push like :class:`SyncClient` and remember the events and their results."""
        self.sent.update({str(event.id): event for event in events})
        response = super().push(events, waiting=waiting, stuck=stuck)
        self.results.extend(response.results)
        return response


def cash_tendered(total: int) -> int:
    """What a customer hands over: the next round Rp50.000 above ``total`` (change due)."""
    return (total // 50_000 + 1) * 50_000


class ProgressBar:
    """A one-line text progress bar redrawn in place with a carriage return."""

    def __init__(self, out: TextIO, width: int = 30) -> None:
        """Draw on ``out`` with a bar of ``width`` characters."""
        self.out = out
        self.width = width

    def __call__(self, done: int, total: int) -> None:
        """Redraw for ``done`` of ``total`` rows; ends the line when done."""
        filled = self.width * done // total if total else self.width
        self.out.write(f"\rCatalog [{'#' * filled:<{self.width}}] {done}/{total}")
        if done >= total:
            self.out.write("\n")
        self.out.flush()


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Do the demo day for ``args``; the exit status."""
    settings = ClientSettings(
        data_dir=args.data_dir, server_url=args.server, http_timeout_seconds=args.timeout
    )
    base_url = settings.server_url
    store = LocalStore.open(settings)
    try:
        token = store.device_token()
        if token is None:
            if not args.enroll_code:
                err.write("This till is not enrolled: pass --enroll-code from a manager.\n")
                return 2
            with httpx.Client(timeout=settings.http_timeout_seconds) as http:
                answer = enroll(http, base_url, args.enroll_code, args.device_name)
            store.save_enrollment(
                device_token=answer.device_token,
                terminal_id=answer.terminal_id,
                terminal_code=answer.terminal_code,
                store_id=answer.store_id,
            )
            token = answer.device_token
            out.write(f"Enrolled as terminal {answer.terminal_code} of {answer.store_name}.\n")
        clients: list[RecordingClient] = []

        def client_factory() -> SyncClient:
            client = RecordingClient(
                httpx.Client(timeout=settings.http_timeout_seconds),
                base_url=base_url,
                token=token,
            )
            clients.append(client)
            return client

        worker = SyncWorker(
            lambda: LocalStore.open(settings),
            client_factory,
            batch_size=settings.push_batch_size,
            pull_limit=settings.pull_page_size,
        )
        pulled = worker.initial_download(ProgressBar(err, width=30))
        out.write(f"Catalog: {store.product_count()} products ({pulled} rows pulled).\n")

        sale, _ = _sell(store, settings, args)
        out.write(render_receipt(receipt_for_sale(store, sale), width=RECEIPT_WIDTH))
        out.write("\n")

        report = worker.run_once()
        results = [r for client in clients for r in client.results]
        sent = {k: v for client in clients for k, v in client.sent.items()}
        for result in results:
            event = sent.get(str(result.id))
            what = event.type if event is not None else "event"
            if event is not None and event.payload.get("receipt_number"):
                what += f" {event.payload['receipt_number']}"
            reason = f": {result.code} {result.reason}" if result.reason else ""
            out.write(f"Server: {what} {result.status.value}{reason}\n")
        out.write(
            f"Sync: {'online' if report.online else 'offline'}, pushed {report.pushed}, "
            f"rejected {report.rejected_now}, waiting {report.pending}"
            + (f", error: {report.last_error}" if report.last_error else "")
            + "\n"
        )
        ok = (
            report.online is True
            and report.pending == 0
            and all(r.status in (EventStatus.APPLIED, EventStatus.DUPLICATE) for r in results)
        )
        return 0 if ok else 1
    except SyncError as exc:
        err.write(f"\nError: {exc.message}\n")
        return 1
    except DomainError as exc:
        err.write(f"\nError: {exc}\n")
        return 1
    finally:
        store.close()


def _sell(
    store: LocalStore, settings: ClientSettings, args: argparse.Namespace
) -> tuple[SaleIn, str]:
    """Log the cashier in, open a shift if none is open, ring up and pay cash."""
    auth = AuthService(store, settings)
    user = next((u for u in auth.users() if u.username == args.cashier), None)
    if user is None:
        raise AuthError("user_unknown", username=args.cashier)
    auth.login(user.id, args.pin)
    catalog = CatalogService(store)
    shifts = ShiftService(store, auth)
    if shifts.current() is None:
        shifts.open(OPENING_FLOAT)
    checkout = CheckoutService(store, auth, settings, catalog=catalog)
    for code in args.barcode or DEMO_BARCODES:
        checkout.scan(code)
    result = checkout.checkout_cash(cash_tendered(checkout.totals().total))
    return result.sale, user.full_name


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m pos_client.demo``."""
    parser = argparse.ArgumentParser(
        prog="python -m pos_client.demo",
        description="Enroll a till, download the catalog, sell three items for cash, "
        "print the receipt and sync (no display needed).",
    )
    parser.add_argument("--server", default="http://127.0.0.1:8000", help="server base URL")
    parser.add_argument("--enroll-code", default="", help="one-time code from a manager")
    parser.add_argument("--data-dir", required=True, help="folder of this till's database")
    parser.add_argument("--device-name", default="demo till")
    parser.add_argument("--cashier", default="siti", help="username of the cashier")
    parser.add_argument("--pin", default="1111", help="the cashier's PIN")
    parser.add_argument(
        "--barcode", action="append", help="a barcode to scan (repeat; default: 3 demo items)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo with ``argv`` (default: the command line); the exit status."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
