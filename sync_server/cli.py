"""``kasir-server``: run the sync server and administer it from a shell.

Each subcommand is a thin wrapper over the same services the HTTP API calls, acting
as the server operator (who may do what an admin may). Settings come from the
environment (``KASIR_*``) exactly as for the server itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.messages import render
from shared.models import EnrollmentCodeRequest, Role, UserCreate
from sync_server.catalog.price_history import install_price_history
from sync_server.core.config import Settings
from sync_server.core.database import Database
from sync_server.core.errors import AppError

Handler = Callable[[argparse.Namespace, Settings], int]


def _print(value: BaseModel | dict[str, Any]) -> None:
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _migrate(settings: Settings) -> None:
    from sync_server.migrate import upgrade

    url = settings.effective_database_url
    if url.startswith("sqlite") and not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(url)


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    """The configured database, migrated first unless the settings say not to."""
    if settings.run_migrations_on_start:
        _migrate(settings)
    install_price_history()  # as create_app does: catalog edits here keep their history
    db = Database(settings.effective_database_url)
    try:
        yield db
    finally:
        db.dispose()


# ---------------------------------------------------------------- subcommands


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the API under uvicorn with several workers and metrics summed across them;
    the app migrates the database as it starts (one worker at a time)."""
    from sync_server.core.serving import default_workers, serve

    serve(
        host=args.host,
        port=args.port,
        workers=args.workers or default_workers(),
        log_level=settings.log_level,
        metrics_dir=args.metrics_dir,
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the database to the newest schema."""
    _migrate(settings)
    print(f"database is at the newest schema: {_safe_url(settings.effective_database_url)}")
    return 0


def cmd_create_store(args: argparse.Namespace, settings: Settings) -> int:
    """Create a store."""
    from sync_server.auth import service

    with _database(settings) as db:
        store = service.create_store(
            db=db, code=args.code, name=args.name, address=args.address, npwp=args.npwp
        )
    _print(store)
    return 0


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    """Create a user, optionally with a password (web and API) and a PIN (tills)."""
    from sync_server.auth import service

    with _database(settings) as db:
        store_id = (
            service.store_id_for_code(db=db, code=args.store_code) if args.store_code else None
        )
        data = UserCreate(
            username=args.username,
            full_name=args.full_name,
            role=Role(args.role),
            store_id=store_id,
            password=args.password,
            pin=args.pin,
        )
        user = service.create_user(db=db, data=data)
    _print(user)
    return 0


def cmd_enroll_terminal(args: argparse.Namespace, settings: Settings) -> int:
    """Make a one-time code that enrolls a till; the code is printed once."""
    from sync_server.auth import service

    with _database(settings) as db:
        store_id = service.store_id_for_code(db=db, code=args.store_code)
        out = service.create_enrollment_code(
            db=db,
            request=EnrollmentCodeRequest(
                store_id=store_id,
                terminal_code=args.terminal_code,
                name=args.name,
                ttl_minutes=args.ttl_minutes,
            ),
        )
    print(f"Enrollment code for terminal {out.terminal_code} (valid until {out.expires_at}):")
    print(out.code)
    return 0


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Load the demo store, catalog, stock and users (missing ones only)."""
    try:
        from sync_server.catalog.demo import seed_demo
    except ImportError as exc:
        message = render("demo_catalog_unavailable", {"reason": str(exc)}, "en")
        print(f"error: {message}", file=sys.stderr)
        return 1
    with _database(settings) as db:
        summary = seed_demo(db)
    _print(summary)
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Back the database up into a folder: a timestamped file and its manifest."""
    from sync_server.backup import backup, describe

    result = backup(settings.effective_database_url, to_dir=args.to)
    _print(describe(result))
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a backup into an empty database, then migrate it to the newest schema."""
    from sync_server.backup import describe, restore

    url = settings.effective_database_url
    if url.startswith("sqlite") and not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    manifest = restore(url, backup_file=args.file, force=args.force)
    _print({"restored": str(args.file), "into": _safe_url(url), **describe(manifest)})
    return 0


def cmd_import_till_export(args: argparse.Namespace, settings: Settings) -> int:
    """Apply a till's ``kasir export-unsynced`` file through the push ingest."""
    from sync_server.backup import import_till_export

    with _database(settings) as db:
        result = import_till_export(db, path=args.file)
    _print(
        {
            "terminal": result.terminal_code,
            "counts": result.counts(),
            "not_applied": [r.model_dump(mode="json") for r in result.results if r.status.kept],
        }
    )
    return 1 if any(r.status.kept for r in result.results) else 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="kasir-server",
        description="Kasir sync server. Settings come from KASIR_* environment variables.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    serve = add("serve", cmd_serve, "Run the HTTP API (migrations run at start).")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="Worker processes (default: one per CPU core, at most 8).",
    )
    serve.add_argument(
        "--metrics-dir",
        type=Path,
        default=None,
        help="Where the workers keep their metrics (emptied at start; default "
        "$PROMETHEUS_MULTIPROC_DIR, else a new temporary directory).",
    )

    add("migrate", cmd_migrate, "Bring the database to the newest schema.")

    user = add("create-user", cmd_create_user, "Create a user.")
    user.add_argument("--username", required=True)
    user.add_argument("--full-name", required=True)
    user.add_argument("--role", required=True, choices=[r.value for r in Role])
    user.add_argument("--password", help="Password for the web pages and the API.")
    user.add_argument("--pin", help="PIN of 4 to 8 digits for the tills.")
    user.add_argument("--store-code", help="Code of the user's store (e.g. S01).")

    enroll = add("enroll-terminal", cmd_enroll_terminal, "Print a one-time enrollment code.")
    enroll.add_argument("--store-code", required=True)
    enroll.add_argument("--terminal-code", required=True)
    enroll.add_argument("--name", default="", help="A name for the till, e.g. 'Kasir depan'.")
    enroll.add_argument("--ttl-minutes", type=int, default=60)

    store = add("create-store", cmd_create_store, "Create a store.")
    store.add_argument("--code", required=True)
    store.add_argument("--name", required=True)
    store.add_argument("--address", default="")
    store.add_argument("--npwp", default="")

    add("seed-demo", cmd_seed_demo, "Load the demo store, catalog, stock and users.")

    backup = add("backup", cmd_backup, "Back the database up (a timestamped file + manifest).")
    backup.add_argument("--to", type=Path, required=True, help="Folder for the backup.")

    restore = add(
        "restore", cmd_restore, "Restore a backup into an empty database, then migrate it."
    )
    restore.add_argument("file", type=Path, help="A backup file made by `backup`.")
    restore.add_argument(
        "--force", action="store_true", help="Replace what a non-empty database holds."
    )

    imports = add(
        "import-till-export",
        cmd_import_till_export,
        "Apply a till's exported unsynced events (kasir export-unsynced).",
    )
    imports.add_argument("file", type=Path, help="The file the till wrote.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kasir-server`` with ``argv`` (default: the command line); the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        handler: Handler = args.handler
        return handler(args, settings)
    except AppError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"]) or "settings"
            print(f"error: {where}: {err['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
