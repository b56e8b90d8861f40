"""Import every table so ``Base.metadata`` is complete (Alembic and tests use this)."""

from sync_server.auth import models as auth_models
from sync_server.catalog import models as catalog_models
from sync_server.catalog import price_history as price_history_models
from sync_server.core import models as core_models
from sync_server.core.database import Base
from sync_server.customers import models as customers_models
from sync_server.flags import models as flags_models
from sync_server.outlets import models as outlets_models
from sync_server.payments import models as payments_models
from sync_server.purchasing import models as purchasing_models
from sync_server.receipts import models as receipts_models
from sync_server.reports import models as reports_models
from sync_server.stock import models as stock_models
from sync_server.sync import models as sync_models

__all__ = [
    "Base",
    "auth_models",
    "catalog_models",
    "core_models",
    "customers_models",
    "flags_models",
    "outlets_models",
    "payments_models",
    "price_history_models",
    "purchasing_models",
    "receipts_models",
    "reports_models",
    "stock_models",
    "sync_models",
]
