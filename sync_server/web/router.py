"""The manager back office: server-rendered pages under ``/web``, one module per area.

Every page needs a manager or admin session (anonymous visitors are sent to the login
form, cashiers and terminals get 403), and every POST carries the session's CSRF
token (:mod:`sync_server.web.access`). The pages call the features' services only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from sync_server.web.pages import (
    customers,
    flags,
    login,
    outlets,
    payments,
    products,
    purchasing,
    receipt,
    reports,
    sales,
    shifts,
    stock,
    terminals,
    users,
)

HERE = Path(__file__).parent

router = APIRouter()
"""Every page of the back office in one flat list of routes (the access tests walk it)."""

PAGES: tuple[APIRouter, ...] = (
    login.router,
    reports.router,
    flags.router,
    customers.router,
    terminals.router,
    payments.router,
    sales.router,
    shifts.router,
    users.router,
    products.router,
    stock.router,
    purchasing.router,
    outlets.router,
    receipt.router,
)

for _page in PAGES:
    # The pages' routes already carry the /web prefix and the page route class.
    router.routes.extend(_page.routes)


def install(app: FastAPI) -> None:
    """Add the pages and their static files (CSS and the small preview script)."""
    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=HERE / "static"), name="web-static")
