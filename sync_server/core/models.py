"""Tables every feature shares: the change counter and stores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.core.database import Base, BigId, UTCDateTime, utcnow


class ChangeCounter(Base):
    """A single row holding the last change number handed out (see ``next_change_numbers``)."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class Store(Base):
    """A shop. Its receipt template (header, footer, NPWP) travels to its tills by pull."""

    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    npwp: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Jakarta")
    receipt_header: Mapped[str] = mapped_column(Text, nullable=False, default="")
    receipt_footer: Mapped[str] = mapped_column(Text, nullable=False, default="")
    logo_text: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    static_qris: Mapped[str] = mapped_column(
        String(512), nullable=False, default="", server_default=""
    )
    """The store's static QRIS payload, shown by its tills while offline ("" = none)."""
    change_no: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
