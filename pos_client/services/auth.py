"""Cashier PIN login offline, lockouts after wrong PINs, and supervisor/manager approvals."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pos_client.config import ClientSettings
from pos_client.domain.catalog import User
from pos_client.services.clock import Clock, utc_now
from pos_client.services.errors import AuthError, NotAllowed, NotLoggedIn, UserLocked, WrongPin
from pos_client.store import LocalStore
from shared.models import Role


class AuthService:
    """Who is at the till. PINs are checked against argon2id hashes pulled from the server.

    ``pin_max_failures`` wrong PINs in a row lock that user on this till for
    ``pin_lockout_seconds``, doubling with every later lockout (capped); a right PIN resets.
    Lockouts are stored, so restarting the app does not lift them.
    """

    def __init__(
        self,
        store: LocalStore,
        settings: ClientSettings | None = None,
        *,
        now: Clock = utc_now,
        hasher: PasswordHasher | None = None,
    ) -> None:
        """Check PINs in ``store``; ``now`` is the clock lockouts are measured with."""
        self.store = store
        self.settings = settings or ClientSettings()
        self.now = now
        self.hasher = hasher or PasswordHasher()
        self._current: User | None = None

    def users(self) -> list[User]:
        """Active users, for the login picker."""
        return self.store.users()

    @property
    def current_user(self) -> User | None:
        """The logged-in user, or None."""
        return self._current

    def require_user(self) -> User:
        """The logged-in user, or :class:`NotLoggedIn`."""
        if self._current is None:
            raise NotLoggedIn("not_logged_in")
        return self._current

    def login(self, user_id: int, pin: str) -> User:
        """Log ``user_id`` in with ``pin``; replaces the current user only on success.

        Raises :class:`WrongPin`, :class:`UserLocked` or :class:`AuthError` (unknown,
        inactive, or no PIN set on the server).
        """
        user = self._check_pin(user_id, pin)
        self._current = user
        return user

    def switch_user(self, user_id: int, pin: str) -> User:
        """Hand the till to another user (same checks as :meth:`login`)."""
        return self.login(user_id, pin)

    def logout(self) -> None:
        """Nobody is logged in any more."""
        self._current = None

    def authorize(self, user_id: int, pin: str, min_role: Role) -> User:
        """Approve an action with another user's PIN (a supervisor's or manager's).

        The approver must have at least ``min_role``; wrong PINs count toward their lockout.
        The logged-in user does not change.
        """
        user = self._check_pin(user_id, pin)
        if not user.role.at_least(min_role):
            raise NotAllowed("not_allowed", name=user.full_name, role=min_role.value)
        return user

    def needs_manager_pin(self) -> bool:
        """True unless a manager (or admin) is logged in: the Manager area asks for one."""
        user = self._current
        return user is None or not user.role.at_least(Role.MANAGER)

    def open_manager_area(self, user_id: int | None = None, pin: str = "") -> User:
        """The manager the Manager area opens for: the logged-in one, or the manager whose
        PIN approves it for a cashier (the approval of :meth:`authorize`; the cashier
        stays logged in)."""
        user = self._current
        if user is None:
            raise NotLoggedIn("not_logged_in")
        if not self.needs_manager_pin():
            return user
        if user_id is None:
            raise NotAllowed("not_allowed", name=user.full_name, role=Role.MANAGER.value)
        return self.authorize(user_id, pin, Role.MANAGER)

    def _check_pin(self, user_id: int, pin: str) -> User:
        user = self.store.user(user_id)
        if user is None or not user.active:
            raise AuthError("user_cannot_log_in")
        if not user.pin_hash:
            raise AuthError("user_has_no_pin", name=user.full_name)
        now = self.now()
        failures, lockouts, locked_until = self.store.pin_lockout(user_id)
        if locked_until is not None and now < locked_until:
            seconds = int((locked_until - now).total_seconds() + 0.999)
            raise UserLocked(
                "user_locked", until=locked_until, name=user.full_name, seconds=seconds
            )
        if self._pin_matches(user.pin_hash, pin):
            if failures or lockouts or locked_until:
                self.store.save_pin_lockout(user_id, failures=0, lockouts=0, locked_until=None)
            return user
        failures += 1
        limit = self.settings.pin_max_failures
        if failures >= limit:
            lockouts += 1
            delay = min(
                self.settings.pin_lockout_seconds * 2 ** (lockouts - 1),
                self.settings.pin_lockout_max_seconds,
            )
            until = now + timedelta(seconds=delay)
            self.store.save_pin_lockout(user_id, failures=0, lockouts=lockouts, locked_until=until)
            raise UserLocked("wrong_pin_locked", until=until, name=user.full_name, seconds=delay)
        self.store.save_pin_lockout(
            user_id, failures=failures, lockouts=lockouts, locked_until=locked_until
        )
        raise WrongPin("wrong_pin", attempts_left=limit - failures)

    def _pin_matches(self, pin_hash: str, pin: str) -> bool:
        try:
            return bool(self.hasher.verify(pin_hash, pin))
        except (VerificationError, InvalidHashError):
            return False
