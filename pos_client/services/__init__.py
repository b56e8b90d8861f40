"""Application services the UI calls (no Kivy, no SQL in widgets): each takes a
:class:`~pos_client.store.LocalStore` and an injectable clock."""

from pos_client.services.auth import AuthService
from pos_client.services.catalog import CatalogService
from pos_client.services.checkout import CheckoutResult, CheckoutService
from pos_client.services.clock import Clock, utc_now
from pos_client.services.errors import (
    AuthError,
    InvalidBarcode,
    NotAllowed,
    NotLoggedIn,
    ProductNotFound,
    UserLocked,
    WrongPin,
)
from pos_client.services.qris import QrisError, QrisGateway, QrisService
from pos_client.services.refunds import RefundService
from pos_client.services.shifts import ShiftService
from pos_client.services.tender import TenderFlow

__all__ = [
    "AuthError",
    "AuthService",
    "CatalogService",
    "CheckoutResult",
    "CheckoutService",
    "Clock",
    "InvalidBarcode",
    "NotAllowed",
    "NotLoggedIn",
    "ProductNotFound",
    "QrisError",
    "QrisGateway",
    "QrisService",
    "RefundService",
    "ShiftService",
    "TenderFlow",
    "UserLocked",
    "WrongPin",
    "utc_now",
]
