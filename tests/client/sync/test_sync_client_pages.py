"""Pull pages as they arrive on the wire: gzip asked for, damaged pages refused whole.

The mock answers here are streamed (as from a socket), so the client reads the raw
bytes and decodes them itself, exactly as against a live server.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import httpx
import pytest

from pos_client.sync.client import DamagedAnswer, Offline, SyncClient
from pos_client.sync.http import MAX_DECODED_BYTES, decode_body
from shared.models import PullResponse
from tests.client.fakes import BASE_URL, TOKEN

PAGE = {
    "cursor": 42,
    "has_more": False,
    "remaining": 0,
    "products": [],
    "stock": [
        {"product_id": i, "store_id": 1, "on_hand": i * 3, "change_no": i} for i in range(1, 41)
    ],
}
PAGE_JSON = json.dumps(PAGE).encode()
PAGE_GZIP = gzip.compress(PAGE_JSON, mtime=0)


class _Wire(httpx.SyncByteStream):
    """A body that httpx has not read yet (what a real transport hands over)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        for i in range(0, len(self._data), 1000):
            yield self._data[i : i + 1000]


def _client(body: bytes, encoding: str | None, seen: list[httpx.Request]) -> SyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"Content-Type": "application/json"}
        if encoding is not None:
            headers["Content-Encoding"] = encoding
        return httpx.Response(200, headers=headers, stream=_Wire(body))

    http = httpx.Client(transport=httpx.MockTransport(handle))
    return SyncClient(http, base_url=BASE_URL, token=TOKEN)


@pytest.mark.parametrize(("body", "encoding"), [(PAGE_GZIP, "gzip"), (PAGE_JSON, None)])
def test_pull_asks_for_gzip_and_reads_either_answer(body: bytes, encoding: str | None) -> None:
    seen: list[httpx.Request] = []
    with _client(body, encoding, seen) as client:
        page = client.pull(7, 100)
    assert "gzip" in seen[0].headers["Accept-Encoding"]
    assert page == PullResponse.model_validate(PAGE)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]


DAMAGED = {
    # gzip stream stopped before its end (and its CRC), Content-Length matching
    "gzip_cut_in_the_middle": (PAGE_GZIP[: len(PAGE_GZIP) // 2], "gzip", "cut"),
    "gzip_without_its_trailer": (PAGE_GZIP[:-4], "gzip", "cut"),
    "gzip_bytes_flipped": (_flip(PAGE_GZIP, len(PAGE_GZIP) // 2), "gzip", "corrupt"),
    "gzip_crc_wrong": (_flip(PAGE_GZIP, len(PAGE_GZIP) - 6), "gzip", "corrupt"),
    "gzip_then_garbage": (PAGE_GZIP + b"\x00junk", "gzip", "corrupt"),
    "not_gzip_at_all": (PAGE_JSON, "gzip", "corrupt"),
    "json_cut": (gzip.compress(PAGE_JSON[:-20]), "gzip", "invalid"),
    "json_cut_identity": (PAGE_JSON[:-20], None, "invalid"),
    "valid_json_not_a_page": (
        gzip.compress(b'{"cursor": -1, "has_more": true}'),
        "gzip",
        "invalid",
    ),
    "captive_portal_html": (b"<html>Login to WiFi</html>", None, "invalid"),
    "a_coding_not_asked_for": (PAGE_GZIP, "br", "invalid"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_page_is_refused_whole_with_a_coded_retryable_error(case: str) -> None:
    body, encoding, fault = DAMAGED[case]
    with _client(body, encoding, []) as client, pytest.raises(DamagedAnswer) as caught:
        client.pull(7, 100)
    error = caught.value
    assert isinstance(error, Offline)  # the worker backs off and asks again
    assert error.code == "pull_page_damaged"
    assert error.fault == fault
    assert error.params["cursor"] == 7 and error.params["fault"] == fault
    assert "7" in error.text("id") and "7" in error.text("en")
    assert error.text("id") != error.text("en")


def test_a_compression_bomb_is_refused() -> None:
    bomb = gzip.compress(b" " * (MAX_DECODED_BYTES + 1), compresslevel=1)
    with pytest.raises(ValueError, match="invalid"):
        decode_body(bomb, "gzip")


def test_a_damaged_push_answer_is_an_error_of_the_till_not_a_crash() -> None:
    # A non-streamed answer whose gzip body does not decompress (httpx decodes it).
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=_Wire(_flip(PAGE_GZIP, 30))
        )

    http = httpx.Client(transport=httpx.MockTransport(handle))
    with (
        SyncClient(http, base_url=BASE_URL, token=TOKEN) as client,
        pytest.raises(DamagedAnswer) as caught,
    ):
        client.push([])
    assert caught.value.code == "answer_damaged" and caught.value.fault == "corrupt"
