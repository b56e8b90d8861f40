"""Android entry point of the Kasir till (python-for-android starts ``main.py``).

It is copied to the top of ``source.dir`` by the build steps in README.md. The till's
data goes to the app's private storage; the server address and the enrollment code
are entered on the first-run screen.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KIVY_NO_ARGS", "1")


def main() -> None:
    """Start the Kivy app with its database in the app's private storage."""
    from android.storage import app_storage_path

    from pos_client.config import ClientSettings
    from pos_client.ui.app import KasirApp
    from pos_client.ui.till import ServerQris

    settings = ClientSettings(data_dir=Path(app_storage_path()) / "kasir")
    KasirApp(settings, qris=ServerQris(settings)).run()


if __name__ == "__main__":
    main()
