"""E-mailing an e-receipt from the till (``POST /api/v1/sync/receipt-email``) through a
real SMTP conversation with a small mail sink on 127.0.0.1: the receipt as printed and
its signed link once the sale has synced, the link alone before; nothing sent without
SMTP settings, for another till's sale, a bad address, or a mail server that is down."""

from __future__ import annotations

import email
import socket
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pos_client.sync.http import ServerClient
from pos_client.sync.receipt_link import send_receipt_email
from shared.ids import new_id
from sync_server.core.database import Database
from sync_server.receipts import service
from tests.server.conftest import TEST_SECRET, World, assert_refused
from tests.server.sync_helpers import add_products, push, sale_event, statuses


class _Sink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Conversation)
        self.messages: list[EmailMessage] = []


class _Conversation(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    server: _Sink

    def handle(self) -> None:
        self.wfile.write(b"220 sink ESMTP\r\n")
        body: list[bytes] | None = None
        while line := self.rfile.readline(100_000):
            if body is not None:
                if line.rstrip(b"\r\n") == b".":
                    message = email.message_from_bytes(b"".join(body), policy=default_policy)
                    self.server.messages.append(message)  # type: ignore[arg-type]
                    body = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    body.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                body = []
                self.wfile.write(b"354 end with .\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            elif verb in (b"EHLO", b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.wfile.write(b"250 ok\r\n")
            else:
                self.wfile.write(b"502 not here\r\n")


@pytest.fixture
def sink() -> Iterator[_Sink]:
    server = _Sink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _mail_to(app: FastAPI, port: int) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )


def _synced_sale(client: TestClient, db: Database, world: World) -> dict:
    (product,) = add_products(db, 1, price=12_500)
    sale = sale_event(terminal_code="T01", cashier_id=world.cashier_ids[0], items=[(product, 2)])
    assert statuses(push(client, world.terminal_headers(0), [sale])) == ["applied"]
    return sale


def _send(client: TestClient, world: World, sale_id: str, to: str, index: int = 0):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/sync/receipt-email",
        json={"sale_id": sale_id, "to": to},
        headers=world.terminal_headers(index),
    )


def _link_in(text: str) -> str:
    return next(word for word in text.split() if "/r/" in word)


def test_a_synced_sale_is_mailed_as_printed_with_its_link(
    app: FastAPI, client: TestClient, db: Database, world: World, sink: _Sink
) -> None:
    key = client.get("/api/v1/sync/receipt-key", headers=world.terminal_headers(0)).json()
    assert key["email"] is False
    _mail_to(app, sink.server_address[1])
    key = client.get("/api/v1/sync/receipt-key", headers=world.terminal_headers(0)).json()
    assert key["email"] is True

    sale = _synced_sale(client, db, world)
    resp = _send(client, world, sale["payload"]["id"], "Sari@Example.co.id")
    assert resp.status_code == 202, resp.text
    (message,) = sink.messages
    assert message["To"] == "Sari@Example.co.id"
    number = sale["payload"]["receipt_number"]
    assert number in message["Subject"]
    text = message.get_content()
    assert number in text and "Rp 25.000" in text
    link = _link_in(text)
    terminal, sale_id, signature = link.split("/r/")[1].split("/")
    ref = service.verify_link(
        secret_key=TEST_SECRET, terminal=terminal, sale=sale_id, signature=signature
    )
    assert ref is not None and str(ref.sale_id) == sale["payload"]["id"]


def test_before_the_sale_syncs_the_link_goes_alone(
    app: FastAPI, client: TestClient, world: World, sink: _Sink
) -> None:
    _mail_to(app, sink.server_address[1])
    sale_id = str(new_id())
    assert _send(client, world, sale_id, "budi@example.com").status_code == 202
    (message,) = sink.messages
    text = message.get_content()
    assert service.PENDING_TEXT in text and sale_id in _link_in(text)


def test_nothing_is_sent_when_it_should_not_be(
    app: FastAPI, client: TestClient, db: Database, world: World, sink: _Sink
) -> None:
    sale = _synced_sale(client, db, world)
    sale_id = sale["payload"]["id"]
    # No SMTP settings: the till opens the device's mail app instead.
    assert_refused(_send(client, world, sale_id, "a@example.com"), 409, "email_not_configured")
    _mail_to(app, sink.server_address[1])
    # Another till's sale.
    assert_refused(_send(client, world, sale_id, "a@example.com", 1), 404, "ereceipt_not_found")
    # Not an address, and not a till.
    for bad in ("sari", "a@b", "x" * 300 + "@example.com", "a b@example.com"):
        assert _send(client, world, sale_id, bad).status_code == 422
    users = client.post(
        "/api/v1/sync/receipt-email",
        json={"sale_id": sale_id, "to": "a@example.com"},
        headers=world.manager_headers(),
    )
    assert users.status_code == 403
    assert sink.messages == []
    # The mail server is down: 503, retryable, nothing sent.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    _mail_to(app, closed)
    down = _send(client, world, sale_id, "a@example.com")
    assert_refused(down, 503, "email_unavailable")
    assert "Retry-After" in down.headers


def test_the_tills_own_client_sends_it(
    app: FastAPI, client: TestClient, db: Database, world: World, sink: _Sink
) -> None:
    """The till's request (pos_client.sync.receipt_link) against this server."""
    _mail_to(app, sink.server_address[1])
    sale = _synced_sale(client, db, world)
    token = world.terminal_headers(0)["Authorization"].removeprefix("Bearer ")
    till = ServerClient(client, base_url="http://testserver", token=token)
    send_receipt_email(till, UUID(sale["payload"]["id"]), "sari@example.com")
    (message,) = sink.messages
    assert sale["payload"]["receipt_number"] in message.get_content()
