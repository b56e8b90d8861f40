"""The sync client: headers, typed errors, parsing (httpx.MockTransport, no network)."""

from __future__ import annotations

import httpx
import pytest

from pos_client.sync.client import (
    AuthRevoked,
    Offline,
    ProtocolMismatch,
    ServerRejected,
    SyncClient,
    enroll,
)
from shared.models import PROTOCOL_HEADER, PROTOCOL_VERSION, EventStatus
from tests.client.fakes import BASE_URL, TOKEN, FakeServer, json_of, make_event


def client_answering(handler: httpx.MockTransport | None = None, **response: object) -> SyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(**response)  # type: ignore[arg-type]

    transport = handler or httpx.MockTransport(handle)
    return SyncClient(httpx.Client(transport=transport), base_url=BASE_URL + "/", token=TOKEN)


def test_push_sends_token_protocol_and_events_and_parses_results() -> None:
    server = FakeServer()
    events = [make_event(i) for i in range(3)]
    with server.client() as client:
        answer = client.push(events, waiting=7)
    request = server.requests[0]
    assert request.url == BASE_URL + "/api/v1/sync/push"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers[PROTOCOL_HEADER] == str(PROTOCOL_VERSION)
    body = json_of(request)
    assert [e["id"] for e in body["events"]] == [str(e.id) for e in events]
    assert body["waiting"] == 7
    assert [r.id for r in answer.results] == [e.id for e in events]
    assert {r.status for r in answer.results} == {EventStatus.APPLIED}


def test_pull_sends_cursor_and_limit() -> None:
    server = FakeServer()
    server.add_products(5)
    with server.client() as client:
        page = client.pull(2, 2)
    assert server.requests[0].url.params["cursor"] == "2"
    assert server.requests[0].url.params["limit"] == "2"
    assert [p.id for p in page.products] == [3, 4]
    assert page.has_more and page.remaining == 1 and page.cursor == 4


@pytest.mark.parametrize("failure", ["connect", "timeout", "503", "drop_after_commit"])
def test_unreachable_or_5xx_is_offline(failure: str) -> None:
    server = FakeServer(failures=[failure])
    with (
        server.client() as client,
        pytest.raises(Offline),
    ):
        client.push([make_event()])


@pytest.mark.parametrize("status", [429, 502, 504])
def test_retryable_statuses_are_offline_even_without_error_shape(status: int) -> None:
    with (
        client_answering(status_code=status, text="<html>busy</html>") as client,
        pytest.raises(Offline, match=str(status)),
    ):
        client.pull(0, 10)


def test_426_is_protocol_mismatch_with_servers_message() -> None:
    server = FakeServer(failures=["426"])
    with (
        server.client() as client,
        pytest.raises(ProtocolMismatch) as err,
    ):
        client.pull(0, 10)
    assert err.value.message == "Server speaks protocol 2. Update Kasir."


def test_401_is_auth_revoked() -> None:
    server = FakeServer(token="another-token")
    with (
        server.client() as client,
        pytest.raises(AuthRevoked, match="revoked"),
    ):
        client.pull(0, 10)


def test_other_4xx_is_server_rejected_with_code_and_details() -> None:
    body = {"error": {"code": "payload_too_large", "message": "Too big", "details": {"max": 5}}}
    with (
        client_answering(status_code=413, json=body) as client,
        pytest.raises(ServerRejected) as err,
    ):
        client.push([make_event()])
    assert (err.value.status_code, err.value.code) == (413, "payload_too_large")
    assert err.value.message == "Too big" and err.value.details == {"max": 5}


def test_4xx_without_error_shape_still_gives_a_sentence() -> None:
    with (
        client_answering(status_code=404, text="nope") as client,
        pytest.raises(ServerRejected, match="HTTP 404: nope"),
    ):
        client.pull(0, 10)


def test_a_200_that_is_not_the_schema_is_retryable() -> None:
    # A captive portal on shop wifi answers 200 with its own HTML page.
    with (
        client_answering(status_code=200, text="<html>login to wifi</html>") as client,
        pytest.raises(Offline, match="not a PullResponse"),
    ):
        client.pull(0, 10)


def test_enroll_posts_code_and_returns_token() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "device_token": "tok",
                "terminal_id": 3,
                "terminal_code": "T01",
                "store_id": 1,
                "store_name": "Toko Makmur",
            },
        )

    with httpx.Client(transport=httpx.MockTransport(handle)) as http:
        out = enroll(http, BASE_URL, "ABCD-1234", "Kasir depan")
    assert out.device_token == "tok" and out.terminal_code == "T01"
    assert seen[0].url == BASE_URL + "/api/v1/terminals/enroll"
    assert json_of(seen[0]) == {"code": "ABCD-1234", "device_name": "Kasir depan"}
    assert "Authorization" not in seen[0].headers


def test_enroll_with_used_code_is_rejected() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "invalid_code", "message": "Code used", "details": None}}
        return httpx.Response(400, json=body)

    with (
        httpx.Client(transport=httpx.MockTransport(handle)) as http,
        pytest.raises(ServerRejected, match="Code used"),
    ):
        enroll(http, BASE_URL, "ABCD-1234")
