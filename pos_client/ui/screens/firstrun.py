"""First run: server address and enrollment code → device token → catalog download."""

from __future__ import annotations

import socket

from kivy.properties import BooleanProperty, NumericProperty

from pos_client.sync.client import enroll
from pos_client.ui.i18n import describe, tr
from pos_client.ui.screens.base import KasirScreen, load_kv
from pos_client.ui.workers import on_ui, run_in_worker
from shared.models import EnrollOut

load_kv("firstrun")


class FirstRunScreen(KasirScreen):
    """Enroll the till, then pull the whole catalog with a progress bar."""

    busy = BooleanProperty(False)
    progress = NumericProperty(0)
    progress_max = NumericProperty(1)

    def refresh(self) -> None:
        """Prefill the server address from the settings."""
        if not self.ids.server.text:
            self.ids.server.text = self.till.settings.server_url

    def start_enroll(self) -> None:
        """Enroll in a worker; the UI stays responsive and shows what happens."""
        url = self.ids.server.text.strip().rstrip("/")
        code = self.ids.code.text.strip()
        if not url or not code:
            self.message = tr("need_url_code")
            return
        self.busy = True
        self.message = tr("enrolling")
        till = self.till

        def job() -> EnrollOut:
            with till.http() as http:
                return enroll(http, url, code, device_name=socket.gethostname())

        def done(answer: EnrollOut) -> None:
            till.settings.server_url = url
            till.store.save_enrollment(
                device_token=answer.device_token,
                terminal_id=answer.terminal_id,
                terminal_code=answer.terminal_code,
                store_id=answer.store_id,
            )
            self.download()

        def failed(exc: Exception) -> None:
            self.busy = False
            reason = describe(exc)
            self.tell(tr("enroll_failed", reason=reason), "error")

        run_in_worker(job, done, failed, name="kasir-enroll")

    def download(self) -> None:
        """Pull the catalog in a worker, moving the progress bar page by page."""
        self.busy = True
        self.progress, self.progress_max = 0, 1
        worker = self.till.sync_worker(lambda _report: None)

        def show(done: int, total: int) -> None:
            self.progress_max = max(total, 1)
            self.progress = done
            self.message = tr("downloading", done=done, total=total)

        progress = on_ui(show)

        def finished(rows: int) -> None:
            self.busy = False
            self.progress = self.progress_max
            self.tell(tr("download_done", n=rows), "ok")
            self.app.enrolled()

        def failed(exc: Exception) -> None:
            self.busy = False
            reason = describe(exc)
            self.tell(tr("download_failed", reason=reason), "error")

        run_in_worker(
            lambda: worker.initial_download(progress), finished, failed, name="kasir-download"
        )
