"""Entry point of the frozen till (PyInstaller): ``kasir`` as one program.

A frozen app has no Python interpreter to run ``python -m pos_client.demo``, yet
:func:`pos_client.cli.demo_command` starts the headless demo as
``[sys.executable, "-m", "pos_client.demo", ...]``. Frozen, ``sys.executable`` is this
program, so it answers that one ``-m`` form itself and hands everything else to
:func:`pos_client.cli.main`.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Run the till, or the scripted demo when started as ``kasir -m pos_client.demo``."""
    if argv[:2] == ["-m", "pos_client.demo"]:
        from pos_client.demo import main as demo_main

        return demo_main(argv[2:])
    if argv[:1] == ["-m"]:
        print(
            f"kasir: the frozen till runs no module but pos_client.demo, not {argv[1:2]}",
            file=sys.stderr,
        )
        return 2
    from pos_client.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
