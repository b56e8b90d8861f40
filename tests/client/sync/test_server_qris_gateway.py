"""The app's QRIS gateway: built from the till's own enrollment; its errors are codes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pos_client.config import ClientSettings
from pos_client.services.qris import QrisError
from pos_client.store import LocalStore
from pos_client.ui.till import ServerQris
from shared.models import OrderItemIn
from tests.client.services.test_qris_service import BASE, FakeServer


def _settings(tmp_path: Path) -> ClientSettings:
    return ClientSettings(data_dir=tmp_path, server_url=BASE)


def test_a_till_not_enrolled_is_told_plainly(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    LocalStore.open(settings).close()
    gateway = ServerQris(settings, transport=httpx.MockTransport(FakeServer()))
    with pytest.raises(QrisError) as refused:
        gateway.start(5000, [OrderItemIn(name="Teh", price=5000, quantity=1)])
    assert "belum terdaftar" in refused.value.text("id")
    assert "not enrolled" in refused.value.text("en") == str(refused.value)


def test_an_enrolled_till_pays_with_its_own_token_and_code(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = LocalStore.open(settings)
    store.save_enrollment(device_token="tok-test", terminal_id=1, terminal_code="T07", store_id=7)
    store.close()
    server = FakeServer(statuses=["UNPAID", "PAID"])
    gateway = ServerQris(settings, transport=httpx.MockTransport(server))
    started = gateway.start(5000, [OrderItemIn(name="Teh", price=5000, quantity=1)])
    assert started.order_id.startswith("T07-")
    assert started.qr_string
    assert gateway.poll(started.order_id) == "UNPAID"
    assert gateway.poll(started.order_id) == "PAID"
    created = [r for r in server.requests if r.url.path.endswith("create-transaction")]
    assert json.loads(created[0].content)["amount"] == 5000
