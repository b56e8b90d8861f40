"""What every back-office page shares: the page route class, the session dependencies,
rendering, redirects, and the store a page shows.

Pages are thin: they parse the request, call the features' services and render. A
refusal answers as a page (a redirect to the login form, or an error page in the
manager's language), never as the API's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from shared.messages import render as render_message
from shared.models import StoreOut
from sync_server.core.config import Settings, SettingsDep, settings_of_app
from sync_server.core.database import Database, DbDep, ReportsDbDep, run_in_transaction
from sync_server.core.errors import AppError
from sync_server.core.security import constant_time_equal, sign
from sync_server.reports import service as reports_service
from sync_server.stores import service as stores_service
from sync_server.web import views
from sync_server.web.access import (
    CSRF_FIELD,
    CSRF_HEADER,
    LoginRequired,
    WebForbidden,
    WebSession,
    csrf_valid,
    web_session,
)
from sync_server.web.forms import DATE_INVALID, WebDate, date_field_text

T = TypeVar("T")

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["rupiah"] = views.rupiah
templates.env.filters["number"] = views.number
templates.env.filters["local_time"] = views.local_time
templates.env.filters["date_field"] = date_field_text
templates.env.globals["role_labels"] = {
    role.value: label for role, label in views.ROLE_LABELS.items()
}


class PageRoute(APIRoute):
    """A page route: refusals answer as pages, not as the API's JSON errors.

    No session redirects to the login form; a forbidden caller or a bad CSRF token
    gets a 403 page; a service's error (unknown product, other store...) a page with
    its sentence and status.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the framework's handler (dependencies included) with the page answers."""
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                target = f"/web/login?next={quote(exc.next_path)}"
                return RedirectResponse(target, status_code=303)
            except WebForbidden as exc:
                return render(request, None, "error.html", status_code=403, message=exc.text("id"))
            except AppError as exc:
                return render(
                    request,
                    None,
                    "error.html",
                    status_code=exc.status_code,
                    message=views.error_text(exc),
                )
            except RequestValidationError as exc:
                return render(
                    request, None, "error.html", status_code=422, message=_refusal_text(exc)
                )

        return page_handler


def _refusal_text(exc: RequestValidationError) -> str:
    """A page's refused query or form, in Bahasa Indonesia: each bad date's sentence, or
    the general one."""
    lines = [
        render_message(DATE_INVALID, (e.get("ctx") or {}), "id")
        for e in exc.errors()
        if e.get("type") == DATE_INVALID
    ]
    return " ".join(dict.fromkeys(lines)) or render_message("request_invalid", {}, "id")


def page_router() -> APIRouter:
    """A router for one area's pages under ``/web`` (hidden from the API docs)."""
    return APIRouter(prefix="/web", include_in_schema=False, route_class=PageRoute)


# ---------------------------------------------------------------- dependencies


OUTLET_COOKIE = "kasir_outlet"
"""The outlet a manager of several outlets (an admin) picked: ``<store id>.<signature>``,
signed with the session's token, so it is this session's choice and dies with it."""


@dataclass(frozen=True)
class OutletSession(WebSession):
    """A page's session with the outlet picked in it (None: not picked)."""

    picked_store_id: int | None = None


def outlet_cookie(settings: Settings, ws: WebSession, store_id: int) -> str:
    """The value of :data:`OUTLET_COOKIE` remembering ``store_id`` in this session."""
    return f"{store_id}.{sign(settings.secret_key, f'outlet:{ws.token}:{store_id}')}"


def _with_outlet(request: Request, settings: Settings, ws: WebSession) -> OutletSession:
    """``ws`` with the outlet its cookie names, when the cookie is this session's."""
    picked: int | None = None
    raw = request.cookies.get(OUTLET_COOKIE, "")
    number, _, signature = raw.partition(".")
    if number.isdigit() and len(number) <= 18:
        wanted = outlet_cookie(settings, ws, int(number)).partition(".")[2]
        if constant_time_equal(wanted, signature):
            picked = int(number)
    return OutletSession(user=ws.user, token=ws.token, csrf=ws.csrf, picked_store_id=picked)


def _session(request: Request, db: DbDep, settings: SettingsDep) -> WebSession:
    return _with_outlet(request, settings, web_session(request, db=db, settings=settings))


async def _session_with_csrf(request: Request, db: DbDep, settings: SettingsDep) -> WebSession:
    ws = _with_outlet(request, settings, web_session(request, db=db, settings=settings))
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not csrf_valid(settings.secret_key, ws.token, supplied):
        raise WebForbidden("web_csrf_mismatch")
    return ws


async def _admin_post(request: Request, db: DbDep, settings: SettingsDep) -> WebSession:
    ws = await _session_with_csrf(request, db, settings)
    if not ws.is_admin:
        # The chain catalog is the admin's (docs/authorization.md), on the API and here.
        raise WebForbidden("web_catalog_admin_only")
    return ws


PageDep = Annotated[WebSession, Depends(_session)]
"""A page a manager or admin reads."""
PostDep = Annotated[WebSession, Depends(_session_with_csrf)]
"""A form a manager or admin sends, with the session's CSRF token."""
AdminPostDep = Annotated[WebSession, Depends(_admin_post)]
"""A form that changes the chain catalog: admins only, with the session's CSRF token."""


# ---------------------------------------------------------------- answers


def render(
    request: Request,
    ws: WebSession | None,
    name: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` with the session, its CSRF token and any flash message."""
    context.setdefault("messages", [])
    context.setdefault("errors", [])
    if ws is not None and "outlet_label" not in context:
        context["outlet_label"] = _outlet_label(request, ws, context.get("store_id"))
    flash = request.query_params.get("ok")
    if flash:
        context["messages"] = [*context["messages"], flash]
    return templates.TemplateResponse(
        request,
        name,
        {"ws": ws, "csrf": ws.csrf if ws else "", "path": request.url.path, **context},
        status_code=status_code,
    )


def back(url: str, message: str | None = None) -> RedirectResponse:
    """Redirect after a POST (303), with a flash message shown on the next page."""
    if message:
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}ok={quote(message)}"
    return RedirectResponse(url, status_code=303)


def store_timezone(request: Request) -> str:
    """The shop's time zone (the server's setting) for showing moments."""
    return settings_of_app(request).store_timezone


def run(db: Database, work: Callable[..., T], /, **kwargs: Any) -> T:
    """Call a session-taking service function in its own committed transaction.

    Pages redirect after a POST, so the change must be committed before the answer
    leaves (a request-scoped session would commit only after it).
    """
    return run_in_transaction(db, lambda session: work(session, **kwargs))


# ---------------------------------------------------------------- the store a page shows


def _outlet_label(request: Request, ws: WebSession, shown: object) -> str:
    """The header's outlet entry: the outlet the page shows (or the one picked)."""
    db: Database = request.app.state.db
    stores = store_choices(db, ws)
    sid = shown if isinstance(shown, int) else _choose(stores, ws, None)
    found = next((s for s in stores if s.id == sid), None)
    return "Outlet" if found is None else f"Outlet: {found.code}"


def _choose(stores: list[StoreOut], ws: WebSession, requested: int | None) -> int | None:
    picked = getattr(ws, "picked_store_id", None)
    for wanted in (requested, picked, ws.user.store_id):
        if wanted is not None:
            for store in stores:
                if store.id == wanted:
                    return store.id
    return stores[0].id if stores else None


def store_choices(db: Database, ws: WebSession) -> list[StoreOut]:
    """The stores this manager may look at: their own, or every store for an admin."""
    return run(db, stores_service.list_stores, user=ws.user)


def current_store_id(db: Database, ws: WebSession, requested: int | None) -> int | None:
    """The store a page shows: a manager's own; an admin's choice (``?store_id=``, else
    the outlet picked in the session), or the first store."""
    return _choose(store_choices(db, ws), ws, requested)


def render_for_store(
    request: Request,
    ws: WebSession,
    db: Database,
    name: str,
    *,
    store_id: int | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """:func:`render` a page about one store, with the store picker (the stores this
    manager may look at, and ``store_id`` chosen)."""
    stores = store_choices(db, ws)
    return render(
        request, ws, name, status_code=status_code, stores=stores, store_id=store_id, **context
    )


def report_store_id(db: Database, ws: WebSession, requested: int | None) -> int:
    """The store a report page reads, checked by the reports service (404 with none)."""
    sid = current_store_id(db, ws, requested)
    if sid is None:
        raise AppError("no_store_yet", code="store_required", status_code=404)
    return reports_service.report_store(db, user=ws.user, store_id=sid)


def _report_period(
    ws: PageDep,
    db: ReportsDbDep,
    store_id: int | None = None,
    preset: str | None = None,
    start: WebDate = None,
    end: WebDate = None,
) -> views.ReportPeriod:
    sid = report_store_id(db, ws, store_id)
    today = reports_service.store_today(db, store_id=sid)
    first, last, chosen = views.report_period(today, preset=preset, start=start, end=end)
    return views.ReportPeriod(store_id=sid, start=first, end=last, preset=chosen)


PeriodDep = Annotated[views.ReportPeriod, Depends(_report_period)]
"""A report page's store and period, from its ``store_id``, ``preset``, ``start`` and ``end``."""
