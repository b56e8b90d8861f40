"""``python -m sync_server.payments settle [--every 60] [--once]``: the periodic settler.

Asks Tripay about UNPAID orders near or past expiry whose callback never came (see
``service.settle_expired_orders``). Run one per deployment (cron, a compose service);
several at once are harmless, every change goes through the same legal moves.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import sync_server.models  # noqa: F401 - every table, so foreign keys resolve
from sync_server.core.config import get_settings
from sync_server.core.database import Database
from sync_server.payments.service import settle_expired_orders
from sync_server.payments.tripay import TripayClient

log = logging.getLogger("kasir.payments.settle")


def main(argv: list[str] | None = None) -> int:
    """Settle once, or every ``--every`` seconds until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sync_server.payments")
    commands = parser.add_subparsers(dest="command", required=True)
    settle = commands.add_parser("settle", help="Settle UNPAID orders whose callback is missing.")
    settle.add_argument("--every", type=float, default=60.0, help="Seconds between rounds.")
    settle.add_argument("--once", action="store_true", help="One round, then exit.")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()
    db = Database(settings.effective_database_url)
    client = TripayClient.from_settings(settings)
    try:
        while True:
            changed = settle_expired_orders(db, client)
            log.info("settled %d order(s)", changed)
            if args.once:
                return 0
            time.sleep(args.every)
    except KeyboardInterrupt:
        return 0
    finally:
        client.http.close()
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
