"""A write is acknowledged only after it committed; server errors are a code and parameters.

The commit is made to fail (or to hit a transient lock error once) through a
``before_commit`` hook on the app's own session factory, on SQLite and on MariaDB.
"""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from shared.messages import has_message
from sync_server.catalog.models import Product
from sync_server.core.database import Database
from sync_server.core.errors import AppError, Conflict, NotFound
from sync_server.stock.models import StockLevel, StockMove
from tests.server.conftest import World
from tests.server.sync_helpers import add_products, on_hand

REPO = Path(__file__).resolve().parents[2]


class CommitFailures:
    """Makes the next ``count`` commits that follow a write to ``table`` raise ``error()``.

    Only a transaction that wrote to ``table`` fails: the sign-in check's own short
    transactions commit as usual.
    """

    def __init__(self, error: Any, *, table: str, count: int = 1) -> None:
        self.error = error
        self.table = table
        self.left = count
        self.raised = 0
        self.armed = False

    def saw_statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.lower().split()
        if words[:1] in (["insert"], ["update"]) and self.table in statement.lower():
            self.armed = True

    def before_commit(self, session: Session) -> None:
        if self.armed and self.left > 0:
            self.armed = False
            self.left -= 1
            self.raised += 1
            raise self.error()


@pytest.fixture
def fail_commit(db: Database) -> Iterator[Any]:
    hooks: list[CommitFailures] = []

    def install(error: Any, *, table: str, count: int = 1) -> CommitFailures:
        hook = CommitFailures(error, table=table, count=count)
        event.listen(db.engine, "before_cursor_execute", hook.saw_statement)
        event.listen(db.sessions, "before_commit", hook.before_commit)
        hooks.append(hook)
        return hook

    yield install
    for hook in hooks:
        event.remove(db.engine, "before_cursor_execute", hook.saw_statement)
        event.remove(db.sessions, "before_commit", hook.before_commit)


def lost_connection() -> OperationalError:
    return OperationalError("COMMIT", None, pymysql.err.OperationalError(2013, "Lost connection"))


def deadlock() -> OperationalError:
    return OperationalError(
        "COMMIT", None, pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
    )


def sqlite_locked() -> OperationalError:
    return OperationalError("COMMIT", None, sqlite3.OperationalError("database is locked"))


def _assert_error_shape(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert "Traceback" not in resp.text
    return error


def _product(db: Database, product_id: int) -> tuple[int, str, int]:
    with db.session() as s:
        row = s.get(Product, product_id)
        assert row is not None
        return row.price, row.name, row.change_no


# -- a failed commit is an error answer, and nothing changed --------------------------


def test_product_edit_whose_commit_fails_answers_503_and_changes_nothing(
    client: TestClient, db: Database, world: World, fail_commit: Any
) -> None:
    (product,) = add_products(db, 1)
    before = _product(db, product.id)
    hook = fail_commit(lost_connection, table="products")
    resp = client.patch(
        f"/api/v1/products/{product.id}",
        json={"price": 9999, "name": "Renamed"},
        headers=world.admin_headers(),
    )
    error = _assert_error_shape(resp, 503)
    assert error["code"] == "database_unavailable"
    assert error["details"] == {"retryable": True}
    assert hook.raised == 1
    assert _product(db, product.id) == before


def test_stock_adjustment_whose_commit_fails_answers_503_and_changes_nothing(
    client: TestClient, db: Database, world: World, fail_commit: Any
) -> None:
    (product,) = add_products(db, 1)
    hook = fail_commit(lost_connection, table="stock_moves")
    resp = client.post(
        "/api/v1/stock/adjust",
        json={"lines": [{"product_id": product.id, "quantity": -3}], "reason": "broken"},
        headers=world.manager_headers(),
    )
    _assert_error_shape(resp, 503)
    assert hook.raised == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(StockMove)) == 0
        assert s.scalar(select(func.count()).select_from(StockLevel)) == 0
    assert on_hand(db, world.store_id, product.id) == 0


@pytest.mark.parametrize("error", [deadlock, sqlite_locked], ids=["deadlock", "locked"])
def test_a_transient_lock_error_at_commit_is_retried_and_applied_once(
    client: TestClient, db: Database, world: World, fail_commit: Any, error: Any
) -> None:
    (product,) = add_products(db, 1)
    hook = fail_commit(error, table="stock_moves")
    resp = client.post(
        "/api/v1/stock/adjust",
        json={"lines": [{"product_id": product.id, "quantity": 5}], "reason": "found"},
        headers=world.manager_headers(),
    )
    assert resp.status_code == 200, resp.text
    assert hook.raised == 1
    assert on_hand(db, world.store_id, product.id) == 5
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(StockMove)) == 1


def test_a_write_answered_200_is_committed(client: TestClient, db: Database, world: World) -> None:
    (product,) = add_products(db, 1)
    resp = client.patch(
        f"/api/v1/products/{product.id}", json={"price": 4321}, headers=world.admin_headers()
    )
    assert resp.status_code == 200, resp.text
    # Read on a fresh connection: the answer came after the commit, not before it.
    fresh = Database(db.url)
    try:
        assert _product(fresh, product.id)[0] == 4321
    finally:
        fresh.dispose()


# -- errors are a code and parameters -------------------------------------------------


def test_server_errors_render_from_the_message_tables() -> None:
    error = NotFound("product_id_not_found", product_id=5)
    assert error.code == "not_found"
    assert error.status_code == 404
    assert error.message_code == "product_id_not_found"
    assert error.params == {"product_id": 5}
    assert str(error) == error.message == "There is no product 5."
    assert error.text("id") == "Tidak ada produk 5."
    precise = Conflict("sku_used", code="sku_taken")
    assert (precise.code, precise.message_code) == ("sku_taken", "sku_used")


def test_a_plain_sentence_still_works_as_a_message() -> None:
    error = AppError("Belum ada toko.", code="store_required", status_code=404)
    assert (error.code, error.status_code, error.message) == (
        "store_required",
        404,
        "Belum ada toko.",
    )
    assert error.text("en") == error.text("id") == "Belum ada toko."


def test_an_unknown_product_answers_with_the_english_sentence(
    client: TestClient, world: World
) -> None:
    error = _assert_error_shape(
        client.get("/api/v1/products/424242", headers=world.manager_headers()), 404
    )
    assert error == {
        "code": "not_found",
        "message": "There is no product 424242.",
        "details": {"id": 424242},
    }


_ERROR_CLASSES = {
    "AppError",
    "NotFound",
    "Conflict",
    "Unauthorized",
    "Forbidden",
    "Invalid",
    "Unavailable",
    "PaymentGatewayError",
}


def _raised_message_codes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted((REPO / "sync_server").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            first = node.args[0]
            if name in _ERROR_CLASSES and isinstance(first, ast.Constant):
                text = first.value
                if isinstance(text, str) and text.replace("_", "").isalnum():
                    found.add((str(path.relative_to(REPO)), text))
    return found


def test_every_message_code_the_server_raises_has_both_languages() -> None:
    codes = _raised_message_codes()
    assert codes  # the scan finds the raise sites
    missing = sorted(
        (where, code)
        for where, code in codes
        if not (has_message(code, "en") and has_message(code, "id"))
    )
    assert missing == []
