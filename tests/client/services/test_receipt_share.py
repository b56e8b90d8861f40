"""Sharing a receipt from the till: the e-receipt key kept from the server, the signed
link on the receipt, and the WhatsApp and e-mail links (no window, no server process)."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from pos_client.services.receipts import (
    ShareError,
    email_link,
    email_receipt,
    link_for_sale,
    receipt_for_sale,
    whatsapp_link,
    whatsapp_number,
)
from pos_client.store import LocalStore
from pos_client.sync.client import SyncClient
from pos_client.sync.http import Offline
from pos_client.sync.receipt_link import (
    RECEIPT_KEY_PATH,
    REFRESH_SECONDS,
    RETRY_SECONDS,
    ReceiptKeyKeeper,
    save_receipt_key,
    saved_receipt_key,
)
from shared.receipt_text import LINK_LABEL, share_text
from sync_server.receipts import service as server
from tests.client.conftest import INDOMIE, TEH, Till, ring

SECRET = "rahasia-server-toko-" + "x" * 20
BASE = "https://struk.toko.example"


class KeyServer:
    """The server's receipt-key route (the real service's answer), or an outage."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == RECEIPT_KEY_PATH
        assert request.headers["Authorization"] == "Bearer tok-test"
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("no route to host", request=request)
        key = server.receipt_key_out(secret_key=SECRET, terminal_id=1, base_url=BASE + "/")
        return httpx.Response(200, content=key.model_dump_json())

    def client(self) -> SyncClient:
        transport = httpx.MockTransport(self.handle)
        return SyncClient(httpx.Client(transport=transport), base_url=BASE, token="tok-test")


def test_the_keeper_fetches_once_keeps_and_retries_later(store: LocalStore) -> None:
    now = [1000.0]
    keeper, web = ReceiptKeyKeeper(lambda: now[0]), KeyServer()
    web.down = True
    assert keeper(store, web.client()) is None and saved_receipt_key(store) is None
    web.down = False
    assert keeper(store, web.client()) is None  # not before the retry time
    assert web.calls == 1
    now[0] += RETRY_SECONDS
    got = keeper(store, web.client())
    assert got is not None and got.terminal_id == 1 and got.base_url == BASE
    assert saved_receipt_key(store) == got
    assert keeper(store, web.client()) == got and web.calls == 2  # kept: no more calls


def test_a_key_of_another_terminal_is_not_used(store: LocalStore) -> None:
    key = server.receipt_key_out(secret_key=SECRET, terminal_id=1, base_url=BASE)
    save_receipt_key(store, key)
    assert saved_receipt_key(store) == key
    store.save_enrollment(device_token="t2", terminal_id=2, terminal_code="T02", store_id=7)
    assert saved_receipt_key(store) is None  # enrolled again as terminal 2: fetch anew


def test_receipt_without_key_has_no_link_and_with_key_a_link_the_server_verifies(
    till: Till,
) -> None:
    sale = ring(till, INDOMIE, TEH)
    assert receipt_for_sale(till.store, sale).link == ""
    save_receipt_key(
        till.store, server.receipt_key_out(secret_key=SECRET, terminal_id=1, base_url=BASE)
    )
    receipt = receipt_for_sale(till.store, sale)
    assert receipt.link == link_for_sale(till.store, sale.id)
    assert receipt.link.startswith(f"{BASE}/r/1/{sale.id}/")
    *_, terminal, sale_part, signature = urlsplit(receipt.link).path.split("/")
    ref = server.verify_link(
        secret_key=SECRET, terminal=terminal, sale=sale_part, signature=signature
    )
    assert ref is not None and ref.sale_id == sale.id and ref.terminal_id == 1
    # Another server secret would not accept it.
    assert (
        server.verify_link(
            secret_key="another", terminal=terminal, sale=sale_part, signature=signature
        )
        is None
    )


def test_whatsapp_link_text_decodes_back_to_the_receipt_with_its_link(till: Till) -> None:
    sale = ring(till, INDOMIE, TEH)
    save_receipt_key(
        till.store, server.receipt_key_out(secret_key=SECRET, terminal_id=1, base_url=BASE)
    )
    receipt = receipt_for_sale(till.store, sale)
    link = whatsapp_link(receipt, "0812-3456-7890")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/6281234567890")
    text = parse_qs(parts.query)["text"][0]
    assert text == share_text(receipt)
    assert text.endswith(f"{LINK_LABEL}\n{receipt.link}")  # the link whole, on its own line
    assert sale.receipt_number in text
    assert "&" not in parts.query.removeprefix("text=")  # one parameter, all encoded
    # No number: WhatsApp lets the customer pick the chat.
    assert whatsapp_link(receipt).startswith("https://wa.me/?text=")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("", ""),
        ("081234567890", "6281234567890"),
        ("0812 3456 7890", "6281234567890"),
        ("+62 812-3456-7890", "6281234567890"),
        ("62812345678", "62812345678"),
        ("812345678", "62812345678"),
        ("+65 9123 4567", "6591234567"),
    ],
)
def test_whatsapp_numbers(typed: str, number: str) -> None:
    assert whatsapp_number(typed) == number


@pytest.mark.parametrize("typed", ["abc", "0812", "+62 812 3456 7890 1234 5", "0812;rm"])
def test_bad_whatsapp_numbers_are_refused_with_a_coded_error(typed: str) -> None:
    with pytest.raises(ShareError) as caught:
        whatsapp_number(typed)
    assert caught.value.code == "share_phone_invalid"
    assert "Nomor WhatsApp" in caught.value.text("id")


def test_email_link_carries_subject_and_the_receipt(till: Till) -> None:
    sale = ring(till, INDOMIE, TEH)
    receipt = receipt_for_sale(till.store, sale)
    link = email_link(receipt, " budi@contoh.co.id ")
    parts = urlsplit(link)
    assert parts.scheme == "mailto" and unquote(parts.path) == "budi@contoh.co.id"
    query = parse_qs(parts.query)
    assert query["subject"] == [f"Struk {sale.receipt_number} · {receipt.store.name}"]
    assert query["body"] == [share_text(receipt)]
    assert email_link(receipt).startswith("mailto:?subject=")
    with pytest.raises(ShareError) as caught:
        email_link(receipt, "bukan alamat")
    assert caught.value.code == "share_email_invalid"


def test_email_goes_through_the_server_when_it_sends_mail_else_the_mail_app(till: Till) -> None:
    sale = ring(till, INDOMIE, TEH)
    receipt = receipt_for_sale(till.store, sale)
    sent: list[tuple[object, str]] = []
    with_mail = server.receipt_key_out(secret_key=SECRET, terminal_id=1, base_url=BASE, email=True)
    no_mail = with_mail.model_copy(update={"email": False})

    def send(sale_id: object, to: str) -> None:
        sent.append((sale_id, to))

    def offline(sale_id: object, to: str) -> None:
        raise Offline("no route to host")

    def refused(sale_id: object, to: str) -> None:
        raise Offline("mail server down", status_code=503, code="email_unavailable")

    def mail_app(**kw: object) -> str | None:
        return email_receipt(receipt, " sari@contoh.co.id ", sale_id=sale.id, **kw)  # type: ignore[arg-type]

    # The server sends it: nothing for the device to open.
    assert mail_app(key=with_mail, send=send) is None
    assert sent == [(sale.id, "sari@contoh.co.id")]
    # No e-mail on the server, no key yet, no address, offline, or its mail server
    # down: the device's mail app, with the same message.
    expected = email_link(receipt, "sari@contoh.co.id")
    for key, how in ((no_mail, send), (None, send), (with_mail, offline), (with_mail, refused)):
        assert mail_app(key=key, send=how) == expected
    assert email_receipt(receipt, "", sale_id=sale.id, key=with_mail, send=send) == email_link(
        receipt
    )
    assert len(sent) == 1
    # A bad address is refused before anything is sent.
    with pytest.raises(ShareError):
        email_receipt(receipt, "bukan alamat", sale_id=sale.id, key=with_mail, send=send)
    assert len(sent) == 1


def test_the_keeper_follows_the_servers_email_setting(store: LocalStore) -> None:
    now = [0.0]
    keeper, web = ReceiptKeyKeeper(lambda: now[0]), KeyServer()
    assert keeper(store, web.client()) is not None and web.calls == 1
    now[0] += REFRESH_SECONDS - 1
    assert keeper(store, web.client()) is not None and web.calls == 1  # still fresh
    now[0] += 2
    web.down = True  # a failed refresh keeps the kept key
    assert keeper(store, web.client()) == saved_receipt_key(store) is not None
    assert web.calls == 2
    # A till started again asks once, then keeps it.
    again = ReceiptKeyKeeper(lambda: now[0])
    web.down = False
    assert again(store, web.client()) is not None and web.calls == 3
    assert again(store, web.client()) is not None and web.calls == 3
