"""UI pieces that need no window: words in both languages, prefs, receipts, the CLI."""

from __future__ import annotations

import re
import wave
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from pos_client import cli
from pos_client.config import ClientSettings
from pos_client.scanner.wedge import WedgeSetup
from pos_client.services.qris import QrisError, QrisGateway
from pos_client.store.ports import PushFailure, StuckLocal
from pos_client.ui import i18n
from pos_client.ui.glue import stuck_sentence
from pos_client.ui.prefs import UiPrefs, load_prefs, save_prefs, scanner_prefs
from pos_client.ui.sound import make_beep
from shared.models import OutboxEvent
from shared.money import parse_rupiah
from shared.timezones import store_zone
from tests.client.fakes import FakeQrisGateway


def test_both_languages_have_the_same_words_and_placeholders() -> None:
    ids, ens = i18n.STRINGS["id"], i18n.STRINGS["en"]
    assert set(ids) == set(ens)
    for key in ids:
        assert set(re.findall(r"{(\w+)}", ids[key])) == set(re.findall(r"{(\w+)}", ens[key])), key


def test_language_switch_and_default() -> None:
    assert i18n.tr("pay") == "Bayar"
    i18n.set_language("en")
    try:
        assert i18n.tr("waiting", n=3) == "3 waiting"
    finally:
        i18n.set_language("id")
    with pytest.raises(ValueError):
        i18n.set_language("fr")


def test_parse_rupiah() -> None:
    assert parse_rupiah("Rp 12.500") == 12500
    assert parse_rupiah("200000") == 200000
    assert parse_rupiah("") is None
    assert parse_rupiah("-5") is None


def test_prefs_round_trip_and_bad_values(tmp_path: Path) -> None:
    assert load_prefs(tmp_path) == UiPrefs()
    prefs = UiPrefs().with_changes(
        printer_kind="network", printer_host="10.0.0.9", receipt_width=48
    )
    save_prefs(tmp_path, prefs)
    assert load_prefs(tmp_path) == prefs
    assert prefs.printer() is not None
    assert UiPrefs().with_changes(receipt_width=40).receipt_width == 32
    (tmp_path / "ui-settings.json").write_text("{not json")
    assert load_prefs(tmp_path) == UiPrefs()


def test_the_scanner_setup_is_kept_on_the_device_and_wins_over_the_settings(
    tmp_path: Path,
) -> None:
    settings = ClientSettings(data_dir=tmp_path, scanner_suffixes=["enter"], scanner_prefix="")
    assert UiPrefs().wedge(settings) == WedgeSetup(suffixes=("enter",))
    chosen = WedgeSetup(suffixes=("tab",), prefix="~", max_gap_ms=40, min_length=8)
    save_prefs(tmp_path, UiPrefs().with_changes(scanner=scanner_prefs(chosen)))
    assert load_prefs(tmp_path).wedge(settings) == chosen
    # A hand-edited file with a value the wedge cannot use falls back to the settings.
    broken = {**scanner_prefs(chosen), "max_gap_ms": 9000}
    assert UiPrefs().with_changes(scanner=broken).scanner is None
    assert UiPrefs(scanner={"suffixes": "tab"}).wedge(settings).suffixes == ("enter",)


def test_fake_qris_gateway_meets_the_port() -> None:
    gateway: QrisGateway = FakeQrisGateway(polls_until_final=2)
    started = gateway.start(10_000, [])
    assert started.qr_string
    assert gateway.poll(started.order_id) == "UNPAID"
    assert gateway.poll(started.order_id) == "PAID"
    with pytest.raises(QrisError):
        FakeQrisGateway(fail_start="qris_offline").start(1, [])


def test_beep_is_a_short_2khz_tone(tmp_path: Path) -> None:
    path = make_beep(tmp_path / "beep.wav")
    with wave.open(str(path)) as sound:
        assert sound.getframerate() == 22050
        assert 0.05 < sound.getnframes() / sound.getframerate() < 0.3
    shipped = Path(__file__).resolve().parents[2] / "assets" / "beep.wav"
    assert shipped.exists()


def test_cli_without_a_display_runs_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    calls: list[list[str]] = []
    monkeypatch.setattr(cli.subprocess, "call", lambda command: calls.append(command) or 0)
    argv = ["--server", "http://127.0.0.1:8000", "--enroll-code", "ABCD-1234"]
    assert cli.main([*argv, "--data-dir", str(tmp_path)]) == 0
    assert "no display" in capsys.readouterr().out
    assert calls[0][1:] == [
        "-m", "pos_client.demo", "--server", "http://127.0.0.1:8000",
        "--enroll-code", "ABCD-1234", "--data-dir", str(tmp_path),
    ]  # fmt: skip
    assert cli.has_display({"WAYLAND_DISPLAY": "wayland-0"})


def test_service_errors_read_in_the_cashiers_language() -> None:
    from datetime import UTC, datetime

    from pos_client.domain.errors import CartError
    from pos_client.services.errors import ProductNotFound, UserLocked, WrongPin
    from pos_client.ui.i18n import describe, set_language

    try:
        set_language("id")
        assert describe(WrongPin("wrong_pin", attempts_left=3)) == "PIN salah; sisa 3 percobaan."
        locked = UserLocked("user_locked", until=datetime.now(UTC), name="Sari", seconds=30)
        assert "terkunci" in describe(locked)
        not_found = ProductNotFound("product_not_found_barcode", code="1")
        assert describe(not_found).startswith("Produk")
        # An error raised with only its class's code still reads as a sentence.
        assert describe(CartError()) == "Keranjang tidak bisa melakukan itu."
        set_language("en")
        assert describe(not_found) == "No product has barcode 1."
    finally:
        set_language("id")


def test_bilingual_errors_answer_in_the_current_language() -> None:
    from pos_client.services.qris import QrisOffline
    from pos_client.ui.i18n import describe, set_language

    error = QrisOffline("qris_offline")
    try:
        set_language("en")
        assert describe(error) == error.text("en")
        set_language("id")
        assert describe(error) == error.text("id") != error.text("en")
    finally:
        set_language("id")


def test_a_stuck_event_reads_as_a_sentence_with_the_servers_answer() -> None:
    def stuck(failure: PushFailure, type_: str, payload: dict[str, object]) -> StuckLocal:
        event = OutboxEvent(
            id=UUID("0190f3c2-0000-7000-8000-000000000001"),
            type=type_,
            created_at=datetime(2025, 6, 15, 3, 0, tzinfo=UTC),
            payload=payload,
        )
        return StuckLocal(
            event=event,
            failure=failure,
            attempts=3,
            stuck_since=datetime(2025, 6, 15, 3, 1, tzinfo=UTC),
            retry_at=datetime(2025, 6, 15, 3, 9, tzinfo=UTC),
        )

    jakarta = store_zone("Asia/Jakarta")
    known = PushFailure(status_code=500, code="internal_error", message="Something broke")
    sale = stuck(known, "sale", {"receipt_number": "T01-20250615-0001"})
    assert stuck_sentence(sale, jakarta) == (
        "Penjualan T01-20250615-0001, dibuat 15/06 10:00: server menjawab 500 — "
        "Terjadi kesalahan di server. Sudah dicoba 3 kali; dicoba lagi pukul 10:09."
    )
    # a code the tables do not know: the server's own sentence, as it sent it
    odd = PushFailure(status_code=413, code="payload_too_big", message="Too big")
    shift = stuck(odd, "shift_open", {"id": "x"})
    assert "Buka shift" in stuck_sentence(shift, jakarta)
    assert "server menjawab 413 — Too big. Sudah" in stuck_sentence(shift, jakarta)
    i18n.set_language("en")
    try:
        assert stuck_sentence(sale, jakarta) == (
            "Sale T01-20250615-0001, made 15/06 10:00: the server answered 500 — "
            "Something went wrong on the server. Tried 3 times; next try at 10:09."
        )
    finally:
        i18n.set_language("id")
