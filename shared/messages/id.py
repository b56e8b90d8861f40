"""Pesan galat dalam Bahasa Indonesia, menurut kode (see :mod:`shared.messages`)."""

MESSAGES: dict[str, str] = {
    "error": "Terjadi galat.",
    # -- QRIS at the till ---------------------------------------------------------------
    "qris_error": "QRIS tidak bisa dipakai sekarang. Terima tunai.",
    "qris_offline": (
        "QRIS perlu koneksi ke server, dan kasir sedang offline. Terima pembayaran tunai."
    ),
    "qris_not_enrolled": "Kasir ini belum terdaftar di server; QRIS belum bisa dipakai.",
    "qris_amount_not_positive": "Jumlah QRIS harus lebih dari Rp0.",
    "qris_tripay_error": (
        "Layanan QRIS (Tripay) sedang bermasalah. Coba lagi sebentar lagi, atau terima tunai."
    ),
    "tripay_timeout": (
        "Layanan QRIS (Tripay) tidak menjawab tepat waktu. Coba lagi, atau terima tunai."
    ),
    "tripay_rejected": "Tripay menolak pembayaran QRIS ini. Terima tunai, atau hubungi manajer.",
    "amount_out_of_range": (
        "QRIS hanya untuk {minimum:rupiah} sampai {maximum:rupiah}. "
        "Terima tunai, atau bagi pembayarannya."
    ),
    "payment_in_progress": "Kode QR masih dibuat. Coba lagi sebentar.",
    "qris_server_refused": "Server menolak pembayaran QRIS ini. Terima tunai.",
    "qris_auth_revoked": (
        "Kasir ini tidak lagi terdaftar di server, jadi QRIS tidak bisa dipakai. "
        "Terima tunai dan hubungi manajer."
    ),
    "qris_protocol_mismatch": "Aplikasi kasir perlu diperbarui untuk memakai QRIS. Terima tunai.",
    "qris_not_paid": (
        "Pembayaran QRIS {state:msg}, jadi penjualan belum selesai. "
        "Coba QRIS lagi, atau terima tunai."
    ),
    "qris_state_UNPAID": "belum dibayar",
    "qris_state_EXPIRED": "kedaluwarsa",
    "qris_state_FAILED": "gagal",
    "qris_state_REFUND": "sudah dikembalikan",
    "qris_state_other": "belum lunas",
    "qris_already_used": "Pembayaran QRIS ini sudah dipakai untuk penjualan lain.",
    "qris_unknown_order": "Tidak ada pembayaran QRIS {order_id}.",
}
