"""The till's HTTP calls for the Manager area: the server's reports and users API.

A :class:`~pos_client.sync.http.ServerClient` like the sync and payments clients (same
seam, same errors), but it speaks for a *person*, not the terminal: the manager signs in
with their username and password (``POST /api/v1/auth/login``) and every later call
carries that bearer token, kept in memory only for the session. The terminal's device
token never opens the management API (docs/authorization.md).

The server's report schemas are the server's (``sync_server.reports.schemas``, which
the till may not import); the few figures the tablet shows are read here into small
models that ignore the rest of each answer.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from pos_client.sync.http import (
    AuthRevoked,
    Offline,
    ServerClient,
    SyncError,
    parse,
    protocol_headers,
)
from shared.models import LoginRequest, Role, TokenOut, UserCreate, UserPatch

LOGIN_PATH = "/api/v1/auth/login"
LOGOUT_PATH = "/api/v1/auth/logout"
USERS_PATH = "/api/v1/users"
REPORTS_PATH = "/api/v1/reports"

Granularity = Literal["day", "week", "month", "year"]


class _Figures(BaseModel):
    """An answer's part the tablet reads; anything else the server sends is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class PeriodFigures(_Figures):
    """One bar of the chart: a day, week, month or year of sales."""

    label: str
    period_start: date
    sales_count: int = 0
    net: int = 0


class SalesFigures(_Figures):
    """Sales per period between two store-local days, with the totals."""

    periods: list[PeriodFigures]
    totals: dict[str, Any]


class ProductFigures(_Figures):
    """A product's units and money over the period."""

    name: str
    quantity: int
    revenue: int


class PaymentFigures(_Figures):
    """Money taken by one payment method."""

    method: str
    payments_count: int
    amount: int


class CashierFigures(_Figures):
    """Sales of one cashier."""

    full_name: str
    sales_count: int = 0
    net: int = 0


class StaffMember(_Figures):
    """A user of the manager's store as the users API shows them (no hashes)."""

    id: int
    username: str
    full_name: str
    role: Role
    active: bool = True
    has_pin: bool = False


class SignInRefused(SyncError):
    """The server refused the manager's password (wrong, or locked for a while)."""

    code = "manager_sign_in_refused"


def _list(response: httpx.Response, adapter: TypeAdapter[Any]) -> Any:
    try:
        return adapter.validate_json(response.content)
    except ValidationError as exc:
        raise Offline(f"Unexpected answer from {response.request.url.path}") from exc


_PRODUCTS = TypeAdapter(list[ProductFigures])
_PAYMENTS = TypeAdapter(list[PaymentFigures])
_CASHIERS = TypeAdapter(list[CashierFigures])
_STAFF = TypeAdapter(list[StaffMember])


class ManagerClient(ServerClient):
    """Reports and users through the server, as the manager signed in on this till."""

    def __init__(self, http: httpx.Client, *, base_url: str, token: str | None = None) -> None:
        """A client for ``base_url``; without ``token`` only :meth:`sign_in` works."""
        super().__init__(http, base_url=base_url, token=token)
        self.token = token

    def sign_in(self, username: str, password: str) -> str:
        """Sign ``username`` in with ``password``; later calls carry the token (returned)."""
        body = LoginRequest(username=username, password=password)
        try:
            answer = parse(self.post(LOGIN_PATH, body.model_dump_json()), TokenOut)
        except AuthRevoked as exc:
            raise SignInRefused(exc.message, code="manager_wrong_password") from exc
        except Offline as exc:
            if exc.status_code != 429:
                raise
            raise SignInRefused(
                exc.message, code="manager_password_locked", details=exc.details
            ) from exc
        self.token = answer.access_token
        self._headers = protocol_headers(self.token)
        return self.token

    def sign_out(self) -> None:
        """Revoke the token on the server (best effort is the caller's choice)."""
        if self.token is not None:
            self.post(LOGOUT_PATH, "{}")
        self.token = None
        self._headers = protocol_headers(None)

    # -- reports ------------------------------------------------------------------------
    def _report(self, path: str, start: date, end: date, **extra: Any) -> httpx.Response:
        params = {"start": start.isoformat(), "end": end.isoformat(), **extra}
        return self.get(f"{REPORTS_PATH}/{path}", params=params)

    def sales(self, granularity: Granularity, start: date, end: date) -> SalesFigures:
        """Sales per ``granularity`` from ``start`` to ``end`` (store-local days)."""
        return parse(self._report("sales", start, end, granularity=granularity), SalesFigures)

    def top_products(self, start: date, end: date, limit: int = 5) -> list[ProductFigures]:
        """The best-selling products by revenue."""
        rows: list[ProductFigures] = _list(
            self._report("top-products", start, end, limit=limit), _PRODUCTS
        )
        return rows

    def payment_methods(self, start: date, end: date) -> list[PaymentFigures]:
        """Money per payment method."""
        rows: list[PaymentFigures] = _list(self._report("payment-methods", start, end), _PAYMENTS)
        return rows

    def cashiers(self, start: date, end: date) -> list[CashierFigures]:
        """Sales per cashier."""
        rows: list[CashierFigures] = _list(self._report("cashiers", start, end), _CASHIERS)
        return rows

    # -- users --------------------------------------------------------------------------
    def users(self) -> list[StaffMember]:
        """The users of the manager's store."""
        rows: list[StaffMember] = _list(self.get(USERS_PATH), _STAFF)
        return rows

    def create_user(self, data: UserCreate) -> StaffMember:
        """Add a user (a manager may add cashiers and supervisors of their store)."""
        return parse(self.post(USERS_PATH, data.model_dump_json(exclude_none=True)), StaffMember)

    def update_user(self, user_id: int, data: UserPatch) -> StaffMember:
        """Change a user: a new PIN, or ``active=False``."""
        request = self._http.build_request(
            "PATCH",
            f"{self.base_url}{USERS_PATH}/{user_id}",
            content=data.model_dump_json(exclude_none=True).encode(),
            headers={**self._headers, "Content-Type": "application/json"},
        )
        return parse(self._send(request), StaffMember)
