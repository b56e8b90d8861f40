"""Errors of the till's services: a code and its parameters (see :mod:`shared.messages`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pos_client.domain.errors import DomainError


class AuthError(DomainError):
    """Login or approval refused."""

    code = "auth_error"


class NotLoggedIn(AuthError):
    """Nobody is logged in on the till."""

    code = "not_logged_in"


class WrongPin(AuthError):
    """The PIN did not match; ``attempts_left`` before the user is locked."""

    code = "wrong_pin"

    def __init__(self, code: str | None = None, /, *, attempts_left: int, **params: Any) -> None:
        super().__init__(code, attempts_left=attempts_left, **params)
        self.attempts_left = attempts_left


class UserLocked(AuthError):
    """Too many wrong PINs: the user is locked on this till until ``until``."""

    code = "user_locked"

    def __init__(self, code: str | None = None, /, *, until: datetime, **params: Any) -> None:
        super().__init__(code, **params)
        self.until = until


class NotAllowed(AuthError):
    """The user's role may not do that."""

    code = "not_allowed"


class InvalidBarcode(DomainError):
    """A scanned code is malformed (wrong check digit, bad length...)."""

    code = "invalid_barcode"


class ProductNotFound(DomainError):
    """No product in the catalog matches."""

    code = "product_not_found"
