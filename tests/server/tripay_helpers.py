"""The Tripay sandbox as the payment tests run it: one merchant's keys, a clock they move."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import FastAPI

from sync_server.tripay_sandbox import create_sandbox_app


@contextmanager
def running_sandbox(
    keys: tuple[str, str, str],
    clock: list[float],
    *,
    retry_interval: float,
    attempts: int,
    callback_client: httpx.Client | None = None,
) -> Iterator[FastAPI]:
    """The sandbox app of the merchant ``keys`` (API key, private key, merchant code),
    its time read from ``clock[0]``, refused callbacks retried ``attempts`` times
    ``retry_interval`` seconds apart; its callback deliveries are stopped afterwards."""
    api_key, private_key, merchant_code = keys
    app = create_sandbox_app(
        api_key=api_key,
        private_key=private_key,
        merchant_code=merchant_code,
        callback_retry_interval=retry_interval,
        callback_max_attempts=attempts,
        clock=lambda: clock[0],
        callback_client=callback_client,
    )
    try:
        yield app
    finally:
        app.state.sandbox.close()
