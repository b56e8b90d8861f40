"""The Manager area: sales figures and the store's people, for a manager at the till.

A manager logs in on the till with their PIN (checked offline like every PIN). The
server's reports and users API takes a person's token, never the terminal's, so to see
the whole store's figures and to manage people the manager signs in once with their
password (:meth:`ManagerService.sign_in`); the token lives in this object only, for the
session, and is revoked by :meth:`ManagerService.sign_out` when they leave.

Figures come from the server's report API when it answers; otherwise (not signed in, or
the network is gone) from this till's own database, marked ``source="local"`` so the
screen says "Data kasir ini saja (offline)". Managing people needs the server: offline
it is refused with a sentence (:class:`ManagerOffline`), nothing is queued.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pos_client.domain.errors import DomainError
from pos_client.services.clock import Clock, utc_now
from pos_client.store import LocalStore
from pos_client.sync.http import AuthRevoked, Offline, SyncError
from pos_client.sync.manager_client import (
    CashierFigures,
    Granularity,
    ManagerClient,
    PaymentFigures,
    ProductFigures,
    StaffMember,
)
from shared.models import Role, UserCreate, UserPatch

log = logging.getLogger("kasir.manager")

GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month", "year")
PERIODS_SHOWN: dict[Granularity, int] = {"day": 14, "week": 8, "month": 12, "year": 5}
"""How many bars each chart has, ending with the current day, week, month or year."""

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
USERNAME_PATTERN = re.compile(r"^[a-zA-Z0-9_.-]{2,64}$")


class ManagerError(DomainError):
    """The Manager area cannot do that."""

    code = "manager_error"


class ManagerOffline(ManagerError):
    """People are managed on the server, and the server cannot be reached."""

    code = "manager_offline"


class ManagerSignInNeeded(ManagerError):
    """The server needs the manager's password first (or again, after it expired)."""

    code = "manager_sign_in_needed"


@dataclass(frozen=True, slots=True)
class Bar:
    """One period of the chart."""

    label: str
    net: int
    sales_count: int


@dataclass(frozen=True, slots=True)
class ManagerReport:
    """What the Manager area shows for one granularity."""

    granularity: Granularity
    start: date
    end: date
    source: Literal["server", "local"]
    bars: list[Bar]
    products: list[ProductFigures] = field(default_factory=list)
    payments: list[PaymentFigures] = field(default_factory=list)
    cashiers: list[CashierFigures] = field(default_factory=list)

    @property
    def net(self) -> int:
        """Net sales of the whole period."""
        return sum(bar.net for bar in self.bars)

    @property
    def sales_count(self) -> int:
        """Sales in the whole period."""
        return sum(bar.sales_count for bar in self.bars)


def period_start(day: date, granularity: Granularity) -> date:
    """The first day of the day, ISO week (Monday), month or year that holds ``day``."""
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "year":
        return day.replace(month=1, day=1)
    return day


def period_label(start: date, granularity: Granularity) -> str:
    """The server's label of the period starting ``start`` (``2025-W09``, ``2025-03``...)."""
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{start:%Y-%m}"
    if granularity == "year":
        return f"{start:%Y}"
    return start.isoformat()


def periods(today: date, granularity: Granularity) -> list[date]:
    """The first days of the periods the chart shows, oldest first, ending at ``today``'s."""
    starts = [period_start(today, granularity)]
    for _ in range(PERIODS_SHOWN[granularity] - 1):
        starts.append(period_start(starts[-1] - timedelta(days=1), granularity))
    return starts[::-1]


def short_label(start: date, granularity: Granularity) -> str:
    """The label under a bar: ``15/06``, ``W24``, ``06/25`` or ``2025``."""
    if granularity == "week":
        return f"W{start.isocalendar()[1]:02d}"
    if granularity == "month":
        return f"{start:%m/%y}"
    if granularity == "year":
        return f"{start:%Y}"
    return f"{start:%d/%m}"


class ManagerService:
    """Reports and people for the manager at this till (call it from a worker thread).

    ``open_store`` gives a connection of the calling thread's own (closed after use);
    ``connect`` a :class:`ManagerClient` for the till's server (with no token yet).
    """

    def __init__(
        self,
        open_store: Callable[[], LocalStore],
        connect: Callable[[], ManagerClient],
        *,
        zone: ZoneInfo,
        now: Clock = utc_now,
    ) -> None:
        """Figures in the store's time zone ``zone``; ``now`` says which day is today."""
        self._open_store = open_store
        self._connect = connect
        self.zone = zone
        self.now = now
        self._client: ManagerClient | None = None
        self._lock = threading.Lock()

    # -- signing in to the server ---------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        """True while the server knows the manager (a token is held)."""
        return self._client is not None

    def sign_in(self, username: str, password: str) -> None:
        """Sign ``username`` in to the server with ``password`` (blocking).

        Raises :class:`ManagerOffline` when the server cannot be reached, otherwise the
        server's refusal (wrong password, locked) as a :class:`SyncError`.
        """
        client = self._connect()
        try:
            client.sign_in(username, password)
        except Offline as exc:
            client.close()
            raise ManagerOffline("manager_offline") from exc
        except SyncError:
            client.close()
            raise
        with self._lock:
            old, self._client = self._client, client
        if old is not None:
            old.close()

    def sign_out(self) -> None:
        """Forget the token and revoke it on the server when it answers."""
        with self._lock:
            client, self._client = self._client, None
        if client is None:
            return
        try:
            client.sign_out()
        except SyncError as exc:  # the token expires on its own
            log.info("manager: sign-out not confirmed by the server (%s)", exc)
        finally:
            client.close()

    def _signed_in_client(self) -> ManagerClient:
        with self._lock:
            client = self._client
        if client is None:
            raise ManagerSignInNeeded("manager_sign_in_needed")
        return client

    def _forget(self, client: ManagerClient) -> None:
        with self._lock:
            if self._client is client:
                self._client = None
        client.close()

    # -- figures --------------------------------------------------------------------------
    def today(self) -> date:
        """The store's local day now."""
        return self.now().astimezone(self.zone).date()

    def report(self, granularity: Granularity, *, today: date | None = None) -> ManagerReport:
        """The figures of the periods ending ``today``: the server's, else this till's."""
        today = today or self.today()
        with self._lock:
            client = self._client
        if client is not None:
            try:
                return self.server_report(client, granularity, today)
            except Offline as exc:
                log.info("manager: server figures unavailable (%s); showing this till's", exc)
            except AuthRevoked:
                self._forget(client)
        return self.local_report(granularity, today)

    def server_report(
        self, client: ManagerClient, granularity: Granularity, today: date
    ) -> ManagerReport:
        """The whole store's figures from the server's report API."""
        starts = periods(today, granularity)
        first = starts[0]
        sales = client.sales(granularity, first, today)
        by_label = {p.label: p for p in sales.periods}
        bars = []
        for start in starts:
            found = by_label.get(period_label(start, granularity))
            bars.append(
                Bar(
                    short_label(start, granularity),
                    found.net if found else 0,
                    found.sales_count if found else 0,
                )
            )
        return ManagerReport(
            granularity=granularity,
            start=first,
            end=today,
            source="server",
            bars=bars,
            products=client.top_products(first, today),
            payments=client.payment_methods(first, today),
            cashiers=client.cashiers(first, today),
        )

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def local_report(self, granularity: Granularity, today: date) -> ManagerReport:
        """This till's own figures from its database (what it rang up, synced or not)."""
        starts = periods(today, granularity)
        first = starts[0]
        start_utc, end_utc = self._utc(first), self._utc(today + timedelta(days=1))
        store = self._open_store()
        try:
            moments = store.sale_moments(start_utc, end_utc)
            products = store.top_products_between(start_utc, end_utc)
            payments = store.payment_methods_between(start_utc, end_utc)
            cashiers = store.cashiers_between(start_utc, end_utc)
        finally:
            store.close()
        sums: dict[date, tuple[int, int]] = {}
        for moment, total in moments:
            key = period_start(moment.astimezone(self.zone).date(), granularity)
            net, count = sums.get(key, (0, 0))
            sums[key] = (net + total, count + 1)
        bars = [Bar(short_label(s, granularity), *sums.get(s, (0, 0))) for s in starts]
        return ManagerReport(
            granularity=granularity,
            start=first,
            end=today,
            source="local",
            bars=bars,
            products=[ProductFigures(name=n, quantity=q, revenue=r) for n, q, r in products],
            payments=[PaymentFigures(method=m, payments_count=c, amount=a) for m, c, a in payments],
            cashiers=[CashierFigures(full_name=n, sales_count=c, net=a) for n, c, a in cashiers],
        )

    # -- people ---------------------------------------------------------------------------
    def _people_call(self, call: Callable[[ManagerClient], StaffMember]) -> StaffMember:
        client = self._signed_in_client()
        try:
            return call(client)
        except Offline as exc:
            raise ManagerOffline("manager_offline") from exc
        except AuthRevoked as exc:
            self._forget(client)
            raise ManagerSignInNeeded("manager_sign_in_needed") from exc

    def staff(self) -> list[StaffMember]:
        """The store's people, cashiers first, by name (needs the server)."""
        client = self._signed_in_client()
        try:
            people = client.users()
        except Offline as exc:
            raise ManagerOffline("manager_offline") from exc
        except AuthRevoked as exc:
            self._forget(client)
            raise ManagerSignInNeeded("manager_sign_in_needed") from exc
        return sorted(people, key=lambda u: (u.role.rank, not u.active, u.full_name.lower()))

    def add_cashier(self, username: str, full_name: str, pin: str) -> StaffMember:
        """Add a cashier of this store with ``pin``; tills see them after their next pull."""
        username, full_name = username.strip(), full_name.strip()
        if not USERNAME_PATTERN.match(username):
            raise ManagerError("manager_bad_username")
        if not full_name:
            raise ManagerError("manager_name_needed")
        _check_pin(pin)
        data = UserCreate(username=username, full_name=full_name, role=Role.CASHIER, pin=pin)
        return self._people_call(lambda client: client.create_user(data))

    def reset_pin(self, user_id: int, pin: str) -> StaffMember:
        """Give ``user_id`` a new PIN (reaches the tills by pull)."""
        _check_pin(pin)
        return self._people_call(lambda client: client.update_user(user_id, UserPatch(pin=pin)))

    def deactivate(self, user_id: int) -> StaffMember:
        """Stop ``user_id`` from logging in anywhere (tills drop them at their next pull)."""
        return self._people_call(
            lambda client: client.update_user(user_id, UserPatch(active=False))
        )


def _check_pin(pin: str) -> None:
    if not PIN_PATTERN.match(pin):
        raise ManagerError("manager_bad_pin")
