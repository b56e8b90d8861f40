"""Server-only store request shapes (the answer is ``shared.models.StoreOut``)."""

from __future__ import annotations

from pydantic import Field

from shared.models import WireModel


class StorePatch(WireModel):
    """Edit a store's details and its receipt template."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    npwp: str | None = Field(default=None, max_length=32, examples=["01.234.567.8-901.000"])
    phone: str | None = Field(default=None, max_length=32)
    receipt_header: str | None = Field(
        default=None, max_length=2000, examples=["Toko Sumber Rejeki\nJl. Pemuda No. 12"]
    )
    receipt_footer: str | None = Field(
        default=None, max_length=2000, examples=["Terima kasih atas kunjungan Anda"]
    )
    logo_text: str | None = Field(default=None, max_length=64)
    static_qris: str | None = Field(
        default=None,
        max_length=512,
        description=(
            "The store's static QRIS payload (the text inside its printed QR sticker), "
            'shown by the store\'s tills while offline; "" removes it.'
        ),
        examples=["00020101021126...6304ABCD"],
    )
