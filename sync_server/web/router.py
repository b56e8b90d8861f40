"""The manager back office: server-rendered pages under ``/web`` (thin: parse, call, render).

Every page needs a manager or admin session (anonymous visitors are sent to the login
form, cashiers and terminals get 403), and every POST carries the session's CSRF
token. The pages call the features' services; page-only glue is in ``web.service``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from shared.models import (
    EnrollmentCodeRequest,
    ProductIn,
    ProductPatch,
    Role,
    UserCreate,
    UserPatch,
)
from sync_server.auth import service as auth_service
from sync_server.auth.deps import SESSION_COOKIE
from sync_server.catalog import csv_io
from sync_server.catalog import service as catalog_service
from sync_server.catalog.schemas import StorePatch
from sync_server.core.config import SettingsDep, settings_of_app
from sync_server.core.database import Database, DbDep, ReportsDbDep
from sync_server.core.errors import AppError
from sync_server.reports import service as reports_service
from sync_server.reports.schemas import Granularity
from sync_server.stock import service as stock_service
from sync_server.stock.schemas import CountIn, CountLine, ReceiveIn, ReceiveLine
from sync_server.web import service
from sync_server.web.service import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_NONCE_COOKIE,
    LoginRequired,
    WebForbidden,
    WebSession,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["rupiah"] = service.rupiah
templates.env.filters["number"] = service.number
templates.env.filters["local_time"] = service.local_time
templates.env.globals["role_labels"] = {
    role.value: label for role, label in service.ROLE_LABELS.items()
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
                return _render(request, None, "error.html", status_code=403, message=exc.message)
            except AppError as exc:
                return _render(
                    request, None, "error.html", status_code=exc.status_code, message=exc.message
                )

        return page_handler


router = APIRouter(prefix="/web", include_in_schema=False, route_class=PageRoute)


# ---------------------------------------------------------------- dependencies


def _session(request: Request, db: DbDep, settings: SettingsDep) -> WebSession:
    return service.web_session(request, db=db, settings=settings)


async def _session_with_csrf(request: Request, db: DbDep, settings: SettingsDep) -> WebSession:
    ws = service.web_session(request, db=db, settings=settings)
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not service.csrf_valid(settings.secret_key, ws.token, supplied):
        raise WebForbidden("Token formulir (CSRF) tidak cocok. Muat ulang halaman dan coba lagi.")
    return ws


PageDep = Annotated[WebSession, Depends(_session)]
PostDep = Annotated[WebSession, Depends(_session_with_csrf)]


def _render(
    request: Request,
    ws: WebSession | None,
    name: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("messages", [])
    context.setdefault("errors", [])
    flash = request.query_params.get("ok")
    if flash:
        context["messages"] = [*context["messages"], flash]
    return templates.TemplateResponse(
        request,
        name,
        {"ws": ws, "csrf": ws.csrf if ws else "", "path": request.url.path, **context},
        status_code=status_code,
    )


def _back(url: str, message: str | None = None) -> RedirectResponse:
    if message:
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}ok={quote(message)}"
    return RedirectResponse(url, status_code=303)


def _store_id(db: Database, ws: WebSession, requested: int | None) -> int | None:
    store = service.current_store(db=db, ws=ws, requested=requested)
    return store.id if store else None


def _tz(request: Request) -> str:
    return settings_of_app(request).store_timezone


# ---------------------------------------------------------------- login


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: str = "/web/") -> HTMLResponse:
    """The login form, with a fresh signed nonce against login CSRF."""
    nonce = service.new_login_nonce()
    response = _render(
        request,
        None,
        "login.html",
        login_csrf=service.login_csrf_token(settings.secret_key, nonce),
        next=service.safe_next(next),
    )
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        secure=service.cookie_secure(settings),
        path="/web",
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/web/",
) -> Response:
    """Check the password (the auth service locks after five wrong ones) and set the cookie."""
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not service.login_csrf_valid(settings.secret_key, nonce, csrf_token):
        raise WebForbidden("Formulir masuk kedaluwarsa. Muat ulang halaman dan coba lagi.")

    def again(error: str, status_code: int) -> HTMLResponse:
        assert nonce is not None
        return _render(
            request,
            None,
            "login.html",
            status_code=status_code,
            errors=[error],
            username=username,
            login_csrf=csrf_token,
            next=service.safe_next(next),
        )

    try:
        token = await asyncio.to_thread(
            auth_service.login,
            db=db,
            username=username.strip(),
            password=password,
            session_hours=settings.session_hours,
            kind="session",
        )
    except AppError as exc:
        # Each wrong password costs a growing moment more; the service locks at five.
        failures = await asyncio.to_thread(
            service.failed_logins_of, db=db, username=username.strip()
        )
        await asyncio.sleep(service.FAILED_LOGIN_DELAY_SECONDS * max(1, failures))
        if exc.code == "locked":
            seconds = (exc.details or {}).get("retry_after_seconds", 30)
            return again(f"Terlalu banyak kata sandi salah. Coba lagi dalam {seconds} detik.", 429)
        return again("Nama pengguna atau kata sandi salah.", 401)
    user = await asyncio.to_thread(service.user_of_token, db=db, token=token.access_token)
    if user is None or not Role(user.role).at_least(Role.MANAGER):
        await asyncio.to_thread(auth_service.logout, db=db, token=token.access_token)
        return again("Back office hanya untuk manajer dan admin.", 403)
    response = RedirectResponse(service.safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.access_token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=service.cookie_secure(settings),
        path="/",
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/web")
    return response


@router.post("/logout")
def logout(ws: PostDep, db: DbDep) -> Response:
    """Revoke the session and forget the cookie."""
    auth_service.logout(db=db, token=ws.token)
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------- dashboard and reports


def _report_store(db: Database, ws: WebSession, requested: int | None) -> int:
    sid = _store_id(db, ws, requested)
    if sid is None:
        raise AppError("Belum ada toko.", code="store_required", status_code=404)
    return reports_service.report_store(db, user=ws.user, store_id=sid)


@router.get("/")
def dashboard(
    request: Request, ws: PageDep, db: ReportsDbDep, store_id: int | None = None
) -> HTMLResponse:
    """Today against yesterday, the last 7 days as a chart, and what needs attention."""
    sid = _report_store(db, ws, store_id)
    return _render(
        request,
        ws,
        "dashboard.html",
        board=service.dashboard_view(db=db, store_id=sid),
        stores=service.store_choices(db=db, ws=ws),
        store_id=sid,
    )


@router.get("/reports/{slug}")
def report(
    request: Request,
    slug: str,
    ws: PageDep,
    db: ReportsDbDep,
    store_id: int | None = None,
    preset: str | None = None,
    start: date | None = None,
    end: date | None = None,
    granularity: Granularity = "day",
) -> HTMLResponse:
    """One report over a period, as a chart and a table, with its CSV download."""
    sid = _report_store(db, ws, store_id)
    today = reports_service.store_today(db, store_id=sid)
    first, last, chosen = service.report_period(today, preset=preset, start=start, end=end)
    view = service.report_view(
        slug, db=db, store_id=sid, start=first, end=last, granularity=granularity
    )
    return _render(
        request,
        ws,
        "report.html",
        view=view,
        reports=service.REPORTS,
        presets=service.PRESETS,
        granularities=service.GRANULARITIES,
        granularity=granularity,
        preset=chosen,
        start=first,
        end=last,
        csv_url=service.csv_url(view, store_id=sid, start=first, end=last),
        stores=service.store_choices(db=db, ws=ws),
        store_id=sid,
    )


# ---------------------------------------------------------------- terminals


def _terminals_page(
    request: Request,
    ws: WebSession,
    db: Database,
    store_id: int | None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    sid = _report_store(db, ws, store_id)
    return _render(
        request,
        ws,
        "terminals.html",
        status_code=status_code,
        terminals=reports_service.terminal_health(db, store_id=sid),
        rejected=reports_service.rejected_events(db, store_id=sid),
        stores=service.store_choices(db=db, ws=ws),
        store_id=sid,
        tz=_tz(request),
        **extra,
    )


@router.get("/terminals")
def terminals(
    request: Request, ws: PageDep, db: DbDep, store_id: int | None = None
) -> HTMLResponse:
    """Tills of the store, their sync health and their rejected events."""
    return _terminals_page(request, ws, db, store_id)


@router.post("/terminals/enroll")
def enroll_terminal(
    request: Request,
    ws: PostDep,
    db: DbDep,
    terminal_code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    store_id: Annotated[int | None, Form()] = None,
) -> HTMLResponse:
    """Make a one-time enrollment code and show it once."""
    sid = _report_store(db, ws, store_id)
    try:
        code = auth_service.create_enrollment_code(
            db=db,
            request=EnrollmentCodeRequest(
                store_id=sid, terminal_code=terminal_code.strip().upper(), name=name.strip()
            ),
            actor=ws.user,
        )
    except (AppError, ValidationError) as exc:
        return _terminals_page(
            request, ws, db, sid, status_code=422, errors=service.error_messages(exc)
        )
    return _terminals_page(request, ws, db, sid, enrollment=code)


@router.post("/terminals/{terminal_id}/revoke")
def revoke_terminal(terminal_id: int, ws: PostDep, db: DbDep) -> Response:
    """Stop a till's device token at once."""
    out = auth_service.revoke_terminal(db=db, terminal_id=terminal_id, actor=ws.user)
    return _back(f"/web/terminals?store_id={out.store_id}", f"Akses terminal {out.code} dicabut.")


@router.post("/terminals/rejected/{event_id}/resolve")
def resolve_rejected(
    event_id: uuid.UUID,
    ws: PostDep,
    db: DbDep,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Mark a rejected event as dealt with, with what was done about it."""
    reports_service.resolve_rejected(
        db, user=ws.user, event_id=event_id, note=note.strip() or "ditandai selesai"
    )
    return _back("/web/terminals", "Event ditandai selesai.")


# ---------------------------------------------------------------- payments


@router.get("/payments")
def payments(
    request: Request,
    ws: PageDep,
    db: ReportsDbDep,
    status: str | None = None,
    store_id: int | None = None,
    preset: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> HTMLResponse:
    """QRIS orders of a period, newest first, with their status."""
    sid = _report_store(db, ws, store_id)
    today = reports_service.store_today(db, store_id=sid)
    first, last, chosen = service.report_period(today, preset=preset, start=start, end=end)
    wanted = status if status in service.QRIS_STATUSES else None
    orders = reports_service.payments(db, store_id=sid, start=first, end=last, status=wanted)
    query = f"store_id={sid}&start={first}&end={last}" + (f"&status={wanted}" if wanted else "")
    return _render(
        request,
        ws,
        "payments.html",
        orders=orders,
        status=wanted,
        statuses=service.QRIS_STATUSES,
        presets=service.PRESETS,
        preset=chosen,
        start=first,
        end=last,
        csv_url=f"/api/v1/reports/payments?format=csv&{query}",
        tz=_tz(request),
    )


# ---------------------------------------------------------------- users


def _users_page(
    request: Request, ws: WebSession, db: Database, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    sid = _store_id(db, ws, None)
    users = auth_service.list_users(db=db, actor=ws.user, store_id=None if ws.is_admin else sid)
    return _render(
        request,
        ws,
        "users.html",
        status_code=status_code,
        users=users,
        roles=service.assignable_roles(ws),
        stores=service.store_choices(db=db, ws=ws),
        store_id=sid,
        **extra,
    )


@router.get("/users")
def users(request: Request, ws: PageDep, db: DbDep) -> HTMLResponse:
    """People of the store, their roles and whether they may log in."""
    return _users_page(request, ws, db)


@router.post("/users")
def create_user(
    request: Request,
    ws: PostDep,
    db: DbDep,
    username: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "cashier",
    pin: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    store_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Create a cashier (with a PIN) or, for an admin, a manager (with a password)."""
    try:
        data = UserCreate(
            username=username.strip(),
            full_name=full_name.strip(),
            role=Role(role),
            store_id=_store_id(db, ws, store_id),
            pin=pin.strip() or None,
            password=password or None,
        )
        created = auth_service.create_user(db=db, data=data, actor=ws.user)
    except (AppError, ValidationError, ValueError) as exc:
        return _users_page(
            request,
            ws,
            db,
            status_code=422,
            errors=service.error_messages(exc),
            draft={"username": username, "full_name": full_name, "role": role},
        )
    return _back("/web/users", f"Pengguna {created.username} dibuat.")


@router.get("/users/{user_id}")
def edit_user_form(request: Request, user_id: int, ws: PageDep, db: DbDep) -> HTMLResponse:
    """One user's role, status and PIN reset."""
    return _render(
        request,
        ws,
        "user_edit.html",
        person=service.find_user(db=db, ws=ws, user_id=user_id),
        roles=service.assignable_roles(ws),
    )


@router.post("/users/{user_id}")
def edit_user(
    request: Request,
    user_id: int,
    ws: PostDep,
    db: DbDep,
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Change name, role, active; a new PIN or password is set when typed."""
    person = service.find_user(db=db, ws=ws, user_id=user_id)
    try:
        patch = UserPatch(
            full_name=full_name.strip() or None,
            role=Role(role) if role else None,
            active=active == "on",
            pin=pin.strip() or None,
            password=password or None,
        )
        auth_service.update_user(db=db, user_id=user_id, data=patch, actor=ws.user)
    except (AppError, ValidationError, ValueError) as exc:
        return _render(
            request,
            ws,
            "user_edit.html",
            status_code=422,
            person=person,
            roles=service.assignable_roles(ws),
            errors=service.error_messages(exc),
        )
    return _back("/web/users", f"Pengguna {person.username} disimpan.")


# ---------------------------------------------------------------- catalog


@router.get("/products")
def products(
    request: Request,
    ws: PageDep,
    db: DbDep,
    q: str = "",
    show: str = "active",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Search the catalog by name, SKU prefix or barcode."""
    active = {"active": True, "inactive": False}.get(show)
    page = service.run(
        db, catalog_service.list_products, q=q or None, active=active, limit=50, offset=offset
    )
    return _render(request, ws, "products.html", page=page, q=q, show=show, offset=offset)


def _product_page(
    request: Request,
    ws: WebSession,
    db: Database,
    *,
    product: dict[str, Any],
    product_id: int | None,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> HTMLResponse:
    return _render(
        request,
        ws,
        "product_form.html",
        status_code=status_code,
        product=product,
        product_id=product_id,
        categories=service.run(db, catalog_service.list_categories),
        tax_rates=service.run(db, catalog_service.list_tax_rates),
        errors=errors or [],
    )


@router.get("/products/new")
def new_product(request: Request, ws: PageDep, db: DbDep) -> HTMLResponse:
    """An empty product form."""
    blank = {"sku": "", "name": "", "unit": "pcs", "price": "", "active": True}
    return _product_page(request, ws, db, product=blank, product_id=None)


@router.post("/products")
async def create_product(request: Request, ws: PostDep, db: DbDep) -> Response:
    """Create a product from the form."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        data = ProductIn(**service.product_form_values(form))
        created = await asyncio.to_thread(
            service.run, db, catalog_service.create_product, data=data
        )
    except (AppError, ValidationError, ValueError) as exc:
        return _product_page(
            request,
            ws,
            db,
            product=form,
            product_id=None,
            status_code=422,
            errors=service.error_messages(exc),
        )
    return _back(f"/web/products/{created.id}", f"Produk {created.sku} dibuat.")


@router.get("/products/import")
def import_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Upload a product CSV."""
    return _render(request, ws, "import.html", result=None)


@router.post("/products/import")
async def import_products(
    request: Request, ws: PostDep, db: DbDep, file: Annotated[UploadFile, File()]
) -> HTMLResponse:
    """Upsert products from a CSV; each bad line is listed with its errors."""
    raw = await file.read()
    try:
        text = raw.decode("utf-8-sig")
        result = await asyncio.to_thread(service.run, db, csv_io.import_products_csv, text=text)
    except UnicodeDecodeError:
        return _render(
            request,
            ws,
            "import.html",
            status_code=422,
            result=None,
            errors=["Berkas bukan teks UTF-8. Simpan sebagai CSV UTF-8."],
        )
    except AppError as exc:
        return _render(
            request,
            ws,
            "import.html",
            status_code=422,
            result=None,
            errors=service.error_messages(exc),
        )
    return _render(request, ws, "import.html", result=result)


@router.get("/products/export.csv")
def export_products(ws: PageDep, db: DbDep) -> Response:
    """The whole catalog as CSV (the format the import reads)."""
    text = service.run(db, csv_io.export_products_csv)
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="produk.csv"'},
    )


@router.get("/products/labels.pdf")
def product_labels(
    ws: PageDep,
    db: DbDep,
    ids: Annotated[list[int], Query()],
    copies: Annotated[int, Query(ge=1, le=100)] = 1,
) -> Response:
    """An A4 PDF of barcode labels for the chosen products."""
    chosen = [service.run(db, catalog_service.get_product, product_id=pid) for pid in ids[:500]]
    pdf, _ = service.labels_pdf(chosen, copies=copies)
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="label-barcode.pdf"'},
    )


@router.get("/products/{product_id}")
def edit_product_form(request: Request, product_id: int, ws: PageDep, db: DbDep) -> HTMLResponse:
    """The product form filled in."""
    product = service.run(db, catalog_service.get_product, product_id=product_id)
    return _product_page(request, ws, db, product=product.model_dump(), product_id=product_id)


@router.post("/products/{product_id}")
async def edit_product(request: Request, product_id: int, ws: PostDep, db: DbDep) -> Response:
    """Save the product form (tills get the change on their next pull)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        patch = ProductPatch(**service.product_form_values(form))
        saved = await asyncio.to_thread(
            service.run, db, catalog_service.update_product, product_id=product_id, patch=patch
        )
    except (AppError, ValidationError, ValueError) as exc:
        return _product_page(
            request,
            ws,
            db,
            product=form,
            product_id=product_id,
            status_code=422,
            errors=service.error_messages(exc),
        )
    return _back(f"/web/products/{saved.id}", f"Produk {saved.sku} disimpan.")


@router.post("/products/{product_id}/deactivate")
def deactivate_product(product_id: int, ws: PostDep, db: DbDep) -> Response:
    """Take a product off sale (it stays for old sales)."""
    out = service.run(db, catalog_service.deactivate_product, product_id=product_id)
    return _back("/web/products", f"Produk {out.sku} dinonaktifkan.")


# ---------------------------------------------------------------- stock


@router.get("/stock")
def stock(
    request: Request,
    ws: PageDep,
    db: DbDep,
    only: str | None = None,
    store_id: int | None = None,
) -> HTMLResponse:
    """On hand per product; negative and low stock flagged or filtered."""
    sid = _store_id(db, ws, store_id)
    chosen = only if only in ("negative", "low") else None
    levels = (
        service.run(
            db, stock_service.store_levels, user=ws.user, store_id=sid, only=chosen, limit=2000
        )
        if sid
        else []
    )
    return _render(request, ws, "stock.html", levels=levels, only=chosen, store_id=sid)


@router.get("/stock/{product_id}/moves")
def stock_moves(
    request: Request, product_id: int, ws: PageDep, db: DbDep, store_id: int | None = None
) -> HTMLResponse:
    """One product's movement history, newest first."""
    sid = _store_id(db, ws, store_id)
    product = service.run(db, catalog_service.get_product, product_id=product_id)
    moves = service.run(
        db, stock_service.store_moves, user=ws.user, store_id=sid, product_id=product_id
    )
    return _render(request, ws, "stock_moves.html", product=product, moves=moves, tz=_tz(request))


def _stock_form(
    request: Request,
    ws: WebSession,
    kind: str,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    extra.setdefault("rows", [("", "")] * 8)
    return _render(request, ws, "stock_form.html", status_code=status_code, kind=kind, **extra)


@router.get("/stock/receive")
def receive_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Goods received: SKU or barcode and quantity per line."""
    return _stock_form(request, ws, "receive")


@router.get("/stock/count")
def count_form(request: Request, ws: PageDep) -> HTMLResponse:
    """Stock take: SKU or barcode and the counted quantity per line."""
    return _stock_form(request, ws, "count")


def _stock_post(
    request: Request,
    ws: WebSession,
    db: Database,
    kind: str,
    codes: list[str],
    quantities: list[str],
    note: str,
) -> Response:
    lines, errors = service.parse_code_lines(codes, quantities)
    ids, unknown = service.resolve_codes(db=db, codes=[line.code for line in lines])
    errors += [f"SKU/barcode {code} tidak dikenal." for code in unknown]
    if not errors:
        sid = _store_id(db, ws, None)
        try:
            if kind == "receive":
                receive = ReceiveIn(
                    store_id=sid,
                    lines=[
                        ReceiveLine(product_id=ids[ln.code], quantity=ln.quantity) for ln in lines
                    ],
                    note=note,
                )
                stock_service.receive_stock(db, user=ws.user, body=receive)
            else:
                count = CountIn(
                    store_id=sid,
                    lines=[CountLine(product_id=ids[ln.code], counted=ln.quantity) for ln in lines],
                    note=note,
                )
                stock_service.count_stock(db, user=ws.user, body=count)
        except (AppError, ValidationError) as exc:
            errors = service.error_messages(exc)
    if errors:
        rows = list(zip(codes, quantities, strict=False))
        return _stock_form(request, ws, kind, status_code=422, errors=errors, rows=rows, note=note)
    done = "Barang masuk dicatat" if kind == "receive" else "Hasil hitung stok dicatat"
    return _back("/web/stock", f"{done} ({len(lines)} baris).")


@router.post("/stock/receive")
def receive(
    request: Request,
    ws: PostDep,
    db: DbDep,
    code: Annotated[list[str], Form()],
    quantity: Annotated[list[str], Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record a delivery (one ``receive`` move per line)."""
    return _stock_post(request, ws, db, "receive", code, quantity, note)


@router.post("/stock/count")
def count(
    request: Request,
    ws: PostDep,
    db: DbDep,
    code: Annotated[list[str], Form()],
    quantity: Annotated[list[str], Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record a stock take (on hand becomes what was counted)."""
    return _stock_post(request, ws, db, "count", code, quantity, note)


# ---------------------------------------------------------------- receipt template


def _receipt_fields(store: Any) -> dict[str, str]:
    return {
        "name": store.name,
        "address": store.address,
        "npwp": store.npwp,
        "phone": store.phone,
        "receipt_header": store.receipt_header,
        "receipt_footer": store.receipt_footer,
        "logo_text": store.logo_text,
    }


def _preview(fields: dict[str, str], width: int, timezone: str) -> str:
    return service.receipt_preview(
        name=fields.get("name", ""),
        address=fields.get("address", ""),
        npwp=fields.get("npwp", ""),
        phone=fields.get("phone", ""),
        header=fields.get("receipt_header", ""),
        footer=fields.get("receipt_footer", ""),
        logo_text=fields.get("logo_text", ""),
        timezone=timezone,
        width=width,
    )


@router.get("/receipt")
def receipt_form(
    request: Request, ws: PageDep, db: DbDep, store_id: int | None = None, width: int = 32
) -> HTMLResponse:
    """The store's receipt template with a preview on a sample sale."""
    sid = _store_id(db, ws, store_id)
    if sid is None:
        raise AppError("Belum ada toko.", code="store_required", status_code=404)
    store = service.run(db, catalog_service.get_store, store_id=sid, user=ws.user)
    fields = _receipt_fields(store)
    return _render(
        request,
        ws,
        "receipt.html",
        fields=fields,
        store_id=sid,
        width=width,
        preview=_preview(fields, width, store.timezone),
    )


@router.post("/receipt")
def save_receipt(
    request: Request,
    ws: PostDep,
    db: DbDep,
    name: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    npwp: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    receipt_header: Annotated[str, Form()] = "",
    receipt_footer: Annotated[str, Form()] = "",
    logo_text: Annotated[str, Form()] = "",
    store_id: Annotated[int | None, Form()] = None,
    width: Annotated[int, Form()] = 32,
) -> Response:
    """Save the template; the store's tills print it after their next pull."""
    sid = _store_id(db, ws, store_id)
    fields = {
        "name": name,
        "address": address,
        "npwp": npwp,
        "phone": phone,
        "receipt_header": receipt_header,
        "receipt_footer": receipt_footer,
        "logo_text": logo_text,
    }
    try:
        patch = StorePatch(**{key: value.strip() for key, value in fields.items()})
        if sid is None:
            raise AppError("Belum ada toko.", code="store_required")
        service.run(db, catalog_service.update_store, store_id=sid, patch=patch, user=ws.user)
    except (AppError, ValidationError) as exc:
        return _render(
            request,
            ws,
            "receipt.html",
            status_code=422,
            fields=fields,
            store_id=sid,
            width=width,
            preview=_preview(fields, width, _tz(request)),
            errors=service.error_messages(exc),
        )
    return _back(f"/web/receipt?width={width}", "Template struk disimpan.")


@router.post("/receipt/preview")
def receipt_preview(
    request: Request,
    ws: PostDep,
    name: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    npwp: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    receipt_header: Annotated[str, Form()] = "",
    receipt_footer: Annotated[str, Form()] = "",
    logo_text: Annotated[str, Form()] = "",
    width: Annotated[int, Form()] = 32,
) -> PlainTextResponse:
    """The receipt as plain text for the live preview (nothing is saved)."""
    fields = {
        "name": name,
        "address": address,
        "npwp": npwp,
        "phone": phone,
        "receipt_header": receipt_header,
        "receipt_footer": receipt_footer,
        "logo_text": logo_text,
    }
    return PlainTextResponse(_preview(fields, width, _tz(request)))


# ---------------------------------------------------------------- wiring


def install(app: FastAPI) -> None:
    """Add the pages and their static files (CSS and the small preview script)."""
    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=HERE / "static"), name="web-static")
