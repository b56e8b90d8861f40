"""First run in a real window: enroll with a code, download the catalog with a progress bar."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pos_client.config import ClientSettings
from pos_client.ui.app import KasirApp
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, EnrollOut, PullResponse
from tests.ui.window import harness as ui


def handler(request: httpx.Request) -> httpx.Response:
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    if request.url.path.endswith("/terminals/enroll"):
        if b"GOOD-CODE" not in request.content:
            body = {
                "error": {"code": "bad_code", "message": "Kode tidak dikenal.", "details": None}
            }
            return httpx.Response(422, json=body, headers=headers)
        answer = EnrollOut(
            device_token="tok-new",
            terminal_id=3,
            terminal_code="T03",
            store_id=7,
            store_name="Toko Maju",
        )
        return httpx.Response(200, content=answer.model_dump_json(), headers=headers)
    if request.url.path.endswith("/sync/pull"):
        full = ui.catalog_page()
        if request.url.params["cursor"] == "0":  # first page: products only
            page = PullResponse(cursor=50, has_more=True, remaining=12, products=full.products)
        else:
            page = full.model_copy(update={"products": [], "has_more": False, "remaining": 0})
        return httpx.Response(200, content=page.model_dump_json(), headers=headers)
    if request.url.path.endswith("/sync/push"):
        return httpx.Response(
            200, json={"results": [], "server_time": "2025-06-15T03:00:00Z"}, headers=headers
        )
    return httpx.Response(404)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KasirApp]:
    settings = ClientSettings(data_dir=tmp_path_factory.mktemp("new-till"))
    kasir = KasirApp(settings, transport=httpx.MockTransport(handler), hasher=ui.FAST_HASHER)
    ui.start_app(kasir)
    yield kasir
    kasir.on_stop()


def test_first_run_enrolls_and_downloads(app: KasirApp) -> None:
    assert app.current == "firstrun"
    first = app.screen("firstrun")
    first.ids.server.text = "http://kasir.test"
    first.ids.code.text = "WRONG"
    ui.press(first.ids.enroll_button)
    ui.pump(lambda: first.ids.message.text.startswith("Pendaftaran gagal"), timeout=5)
    ui.shot("00-firstrun-error")
    first.ids.code.text = "GOOD-CODE"
    ui.press(first.ids.enroll_button)
    ui.pump(lambda: app.current == "login", timeout=10)
    assert first.ids.message.text.startswith("Katalog siap")
    assert first.ids.progress.value == first.ids.progress.max > 1
    assert app.till.store.terminal_identity().terminal_code == "T03"
    assert len(app.screen("login").ids.users.children) == 4
