"""Command line of the local Tripay sandbox.

    python -m sync_server.tripay_sandbox serve [--port 8765]
    python -m sync_server.tripay_sandbox pay DEV-T...      # also: expire, fail, refund

Keys and merchant code default to the server's own settings (``KASIR_TRIPAY_*``), so
the development server and the sandbox agree without flags.
"""

from __future__ import annotations

import argparse
import json
import sys
from urllib.parse import urlsplit

import httpx

from sync_server.core.config import get_settings

ACTIONS = ("pay", "expire", "fail", "refund")


def default_sandbox_url() -> str:
    """Scheme, host and port of the configured Tripay base URL."""
    parts = urlsplit(get_settings().tripay_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def simulate(
    reference: str, action: str, *, url: str, http: httpx.Client | None = None
) -> dict[str, object]:
    """Ask the sandbox at ``url`` to ``action`` a transaction; returns its answer."""
    client = http or httpx.Client(timeout=10.0)
    try:
        response = client.post(f"{url.rstrip('/')}/api-sandbox/simulator/{reference}/{action}")
        answer: dict[str, object] = response.json()
        return answer
    finally:
        if http is None:
            client.close()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sync_server.tripay_sandbox.app import create_sandbox_app

    settings = get_settings()
    if settings.environment == "production":
        print("The Tripay sandbox never runs in production.", file=sys.stderr)
        return 2
    app = create_sandbox_app(
        api_key=args.api_key or settings.tripay_api_key,
        private_key=args.private_key or settings.tripay_private_key,
        merchant_code=args.merchant_code or settings.tripay_merchant_code,
        callback_retry_interval=args.retry_interval,
        callback_max_attempts=args.max_attempts,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    try:
        answer = simulate(args.reference, args.command, url=args.url or default_sandbox_url())
    except (httpx.HTTPError, ValueError) as exc:
        print(f"Cannot reach the sandbox: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0 if answer.get("success") is True else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every command has help text)."""
    parser = argparse.ArgumentParser(
        prog="python -m sync_server.tripay_sandbox", description="Local Tripay sandbox."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Run the sandbox HTTP server.")
    serve.add_argument("--host", default="127.0.0.1", help="Interface to listen on.")
    serve.add_argument("--port", type=int, default=8765, help="Port (default 8765).")
    serve.add_argument("--api-key", help="API key (default: KASIR_TRIPAY_API_KEY).")
    serve.add_argument("--private-key", help="Private key (default: KASIR_TRIPAY_PRIVATE_KEY).")
    serve.add_argument("--merchant-code", help="Merchant code (KASIR_TRIPAY_MERCHANT_CODE).")
    serve.add_argument(
        "--retry-interval", type=float, default=120.0, help="Seconds between callback retries."
    )
    serve.add_argument(
        "--max-attempts", type=int, default=3, help="Callback retries after the first delivery."
    )
    helps = {
        "pay": "Mark a transaction PAID (the payer scanned and paid).",
        "expire": "Mark a transaction EXPIRED.",
        "fail": "Mark a transaction FAILED.",
        "refund": "Mark a PAID transaction REFUND.",
    }
    for action in ACTIONS:
        sub = commands.add_parser(action, help=helps[action])
        sub.add_argument("reference", help="Tripay reference, e.g. DEV-T0001000000011A2B3.")
        sub.add_argument("--url", help="Sandbox address (default: from KASIR_TRIPAY_BASE_URL).")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return _simulate(args)
