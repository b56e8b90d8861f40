"""Barcode scan to cart line on a 100,000-product catalog (no UI).

Loads the catalog the way a new terminal does (pull pages of 5,000 through
``LocalStore.apply_pull_page``; that time is printed too), then times
``CheckoutService.scan`` (check digit, lookup, tax rate, cart line) for random barcodes,
for the same barcodes sent as GTIN-14 (a scanner set to 14 digits), and for in-store
weight labels (prefix 25) of 1,000 loose goods. Goal: p99 < 5 ms.
Run: ``.venv/bin/python -m benches.barcode_lookup [--scans 20000]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from pos_client.config import ClientSettings
from pos_client.services import AuthService, CheckoutService
from pos_client.store import LocalStore
from shared.barcodes import make_ean13
from shared.models import ProductOut, PullResponse, TaxRateOut
from tests.client.big_catalog import WORDS, barcode, catalog_pages, catalog_product

N = 100_000
LOOSE = 1000
PAGE = 5000


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples``, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def label(item: int, grams: int) -> str:
    """The weight label (prefix 25) of loose item ``item``; 0 grams is its catalog code."""
    return make_ean13(f"25{item:05d}{grams:05d}")


def loose_goods() -> PullResponse:
    """1,000 products sold by weight, carrying their label code with the weight zeroed."""
    return PullResponse(
        cursor=N + LOOSE,
        has_more=False,
        remaining=0,
        products=[
            ProductOut(
                id=N + item,
                sku=f"CURAH-{item:05d}",
                barcode=label(item, 0),
                name=f"Curah {item}",
                unit="kg",
                price=10_000 + item,
                tax_rate_id=1,
                change_no=N + item,
            )
            for item in range(1, LOOSE + 1)
        ],
    )


def timed_scans(checkout: CheckoutService, codes: list[str]) -> list[float]:
    """Seconds per ``checkout.scan`` of each code (a new cart every 40 scans)."""
    samples: list[float] = []
    for n, code in enumerate(codes):
        if n % 40 == 0:
            checkout.new_cart()
        t0 = time.perf_counter()
        checkout.scan(code)
        samples.append(time.perf_counter() - t0)
    return samples


def figures(samples: list[float]) -> str:
    """p50, p99 and max of ``samples`` in ms."""
    return (
        f"p50 {percentile(samples, 0.5) * 1e3:.3f} ms   "
        f"p99 {percentile(samples, 0.99) * 1e3:.3f} ms   "
        f"max {max(samples) * 1e3:.3f} ms   (goal p99 < 5 ms)"
    )


def pages() -> list[PullResponse]:
    """100k products as the server would page them."""

    def make(i: int) -> ProductOut:
        name = f"{WORDS[i % 10]} Varian {i} {i % 7 + 1}00g"
        return catalog_product(i, name=name, price=1000 + i % 50_000, tax_rate_id=1)

    tax = TaxRateOut(id=1, code="PPN", name="PPN", rate_bp=1100, change_no=0)
    return list(catalog_pages(N, PAGE, make, tax_rates=[tax]))


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
        store = LocalStore(Path(folder) / "till.sqlite3")
        t0 = time.perf_counter()
        catalog = pages()
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        for page in catalog:
            store.apply_pull_page(page)
        applied = time.perf_counter() - t0
        store.apply_pull_page(loose_goods())
        settings = ClientSettings(data_dir=Path(folder))
        checkout = CheckoutService(store, AuthService(store, settings), settings)
        rng = random.Random(1)
        codes = [barcode(rng.randint(1, N)) for _ in range(args.scans)]
        for code in codes[:500]:  # warm the page cache like a till that has been running
            checkout.catalog.by_barcode(code)
        samples = timed_scans(checkout, codes)
        as_gtin14 = timed_scans(checkout, ["0" + code for code in codes])
        labels = [label(rng.randint(1, LOOSE), rng.randint(1, 99_999)) for _ in range(args.scans)]
        weighed = timed_scans(checkout, labels)
        t0 = time.perf_counter()
        hits = store.search_products("kopi varian 12")
        search = time.perf_counter() - t0
        store.close()

    print(f"catalog: {N:,} products in {N // PAGE} pull pages of {PAGE:,}")
    print(f"  building the page objects (pydantic): {built:6.2f} s")
    print(f"  LocalStore.apply_pull_page, all pages: {applied:6.2f} s (FTS kept in sync)")
    print(f"barcode scan to cart line, {args.scans:,} scans: {figures(samples)}")
    print(f"  the same codes sent as GTIN-14:        {figures(as_gtin14)}")
    print(f"  weight labels of {LOOSE:,} loose goods:     {figures(weighed)}")
    print(f"name search 'kopi varian 12': {len(hits)} hits in {search * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
