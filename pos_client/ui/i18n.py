"""Words on the screen in Bahasa Indonesia (default) and English.

``tr("key", **values)`` formats the current language's sentence; a key missing in
English falls back to Indonesian, and a key missing everywhere shows itself (a bug
a test catches: both tables must hold the same keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable

DEFAULT_LANGUAGE = "id"
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}

STRINGS: dict[str, dict[str, str]] = {
    "id": {
        "app_title": "Kasir",
        "ok": "OK",
        "cancel": "Batal",
        "back": "Kembali",
        "save": "Simpan",
        "close": "Tutup",
        "search": "Cari",
        "clear": "Hapus",
        # status bar
        "online": "Online",
        "offline": "Offline",
        "connecting": "Menghubungkan…",
        "sync_stopped": "Sinkron berhenti",
        "waiting": "{n} menunggu",
        "rejected": "{n} ditolak",
        "last_sync": "Sinkron {time}",
        "never_synced": "Belum pernah sinkron",
        "sync_now": "Sinkron",
        # first run
        "firstrun_title": "Pasang kasir ini",
        "firstrun_help": "Masukkan alamat server dan kode pendaftaran dari manajer.",
        "server_url": "Alamat server",
        "enroll_code": "Kode pendaftaran",
        "enroll": "Daftarkan",
        "enrolling": "Mendaftarkan…",
        "downloading": "Mengunduh katalog: {done} dari {total}",
        "download_done": "Katalog siap: {n} data.",
        "enroll_failed": "Pendaftaran gagal: {reason}",
        "download_failed": "Unduhan gagal: {reason}",
        "need_url_code": "Isi alamat server dan kode pendaftaran.",
        # login
        "login_title": "Masuk",
        "choose_user": "Pilih nama Anda",
        "enter_pin": "Masukkan PIN {name}",
        "login": "Masuk",
        "no_users": "Belum ada pengguna. Sinkronkan katalog dulu.",
        "wrong_pin": "PIN salah; sisa {n} percobaan.",
        "locked": "{name} terkunci. Coba lagi dalam {seconds} detik.",
        "logout": "Keluar",
        # sale
        "sale_title": "Penjualan",
        "scan_hint": "Pindai barang atau cari nama/SKU",
        "search_hint": "Cari produk…",
        "cart_empty": "Keranjang kosong. Pindai barang untuk mulai.",
        "subtotal": "Subtotal",
        "discount": "Diskon",
        "tax": "PPN",
        "total": "Total",
        "pay": "Bayar",
        "hold": "Tahan",
        "resume": "Lanjutkan",
        "held_none": "Tidak ada transaksi ditahan.",
        "finish_cart_first": "Selesaikan atau tahan keranjang ini dulu.",
        "held_saved": "Transaksi ditahan: {label}",
        "remove": "Hapus",
        "line_discount": "Diskon baris",
        "discount_amount": "Diskon (Rp)",
        "discount_percent": "Diskon (%)",
        "approver": "Penyetuju",
        "approver_pin": "PIN penyetuju",
        "needs_approval": "Perlu persetujuan supervisor.",
        "added": "Ditambahkan: {name}",
        "camera": "Kamera",
        "camera_on": "Kamera aktif",
        "camera_off": "Kamera mati",
        "camera_none": "Kamera tidak tersedia. Pemindai USB tetap bisa dipakai.",
        "menu_refund": "Retur",
        "menu_shift": "Shift",
        "menu_stock": "Stok",
        "menu_settings": "Pengaturan",
        "scan_ignored": "Pindaian diabaikan di layar ini.",
        # payment
        "payment_title": "Pembayaran",
        "amount_due": "Harus dibayar",
        "tendered": "Uang diterima",
        "change": "Kembalian",
        "exact": "Uang pas",
        "pay_cash": "Bayar tunai",
        "pay_qris": "QRIS",
        "qris_offline": "QRIS perlu internet. Kasir sedang offline; terima tunai.",
        "qris_unavailable": "QRIS belum tersedia di kasir ini; terima tunai.",
        "qris_waiting": "Menunggu pembayaran… {seconds} detik",
        "qris_paid": "QRIS lunas {amount}",
        "qris_expired": "QR kedaluwarsa. Coba lagi atau terima tunai.",
        "qris_failed": "Pembayaran QRIS gagal. Coba lagi atau terima tunai.",
        "qris_cancelled": "QRIS dibatalkan.",
        "qris_starting": "Membuat kode QR…",
        "qris_error": "QRIS gagal: {reason}",
        "qris_amount": "QRIS untuk {amount}",
        "paid_qris": "Sudah dibayar QRIS",
        "remaining": "Sisa",
        "cash_short": "Uang kurang {amount}.",
        # receipt
        "receipt_title": "Struk",
        "print": "Cetak",
        "reprint": "Cetak ulang",
        "new_sale": "Transaksi baru",
        "printing": "Mencetak…",
        "printed": "Struk tercetak.",
        "print_failed": "Gagal mencetak: {reason} Penjualan tetap tersimpan.",
        "no_printer": "Printer belum diatur (Pengaturan).",
        "change_due": "Kembalian {amount}",
        # refund
        "refund_title": "Retur / Batal",
        "receipt_number": "Nomor struk",
        "find": "Cari",
        "refund_hint": "Ketik atau pindai nomor struk.",
        "manager": "Manajer",
        "manager_pin": "PIN manajer",
        "refund": "Retur",
        "void": "Batalkan transaksi",
        "refund_done": "Retur {amount} dicatat. Berikan uang tunai.",
        "void_done": "Transaksi {number} dibatalkan.",
        "sold_refundable": "terjual {sold}, bisa diretur {left}",
        "choose_manager": "Pilih manajer",
        "refund_nothing": "Pilih jumlah yang diretur.",
        # shift
        "shift_title": "Shift",
        "shift_none": "Belum ada shift. Buka shift dengan modal awal.",
        "opening_float": "Modal awal (Rp)",
        "open_shift": "Buka shift",
        "shift_open_since": "Shift dibuka {time}",
        "amount": "Jumlah (Rp)",
        "reason": "Alasan",
        "cash_in": "Kas masuk",
        "cash_out": "Kas keluar",
        "counted_cash": "Uang dihitung (Rp)",
        "close_shift": "Tutup shift",
        "x_report": "Laporan X",
        "z_report": "Laporan Z",
        "expected_cash": "Kas seharusnya",
        "variance": "Selisih",
        "sales_count": "Jumlah transaksi",
        "sales_total": "Total penjualan",
        "refunds_total": "Total retur",
        "voids_total": "Total batal",
        "cash_in_total": "Kas masuk",
        "cash_out_total": "Kas keluar",
        "net_sales": "Penjualan bersih",
        "counted": "Uang dihitung",
        "moved": "Tercatat: {amount}",
        "shift_closed": "Shift ditutup.",
        # stock
        "stock_title": "Cek stok",
        "on_hand": "Stok {n} {unit}",
        "stock_hint": "Ketik nama atau pindai barang.",
        "nothing_found": "Tidak ditemukan.",
        # settings
        "settings_title": "Pengaturan",
        "printer": "Printer",
        "printer_none": "Tidak ada",
        "printer_network": "Jaringan (ESC/POS)",
        "printer_usb": "USB",
        "printer_host": "Alamat printer",
        "printer_port": "Port",
        "printer_device": "Perangkat USB",
        "receipt_width": "Lebar struk",
        "camera_source": "Kamera (nomor, video, atau folder)",
        "language": "Bahasa",
        "saved": "Pengaturan disimpan.",
        "test_print": "Tes cetak",
        "columns": "{n} kolom",
        # errors the services raise, by their code (see describe)
        "err_wrong_pin": "PIN salah. Sisa {attempts_left} kali percobaan.",
        "err_user_locked": "Terlalu banyak PIN salah: pengguna ini dikunci sementara.",
        "err_not_allowed": "Peran pengguna ini tidak boleh melakukan itu.",
        "err_not_logged_in": "Masuk dulu dengan PIN.",
        "err_invalid_barcode": "Barcode tidak terbaca (digit cek atau panjangnya salah).",
        "err_product_not_found": "Produk tidak ditemukan di katalog kasir ini.",
        "err_approval_required": "Diskon sebesar ini perlu persetujuan PIN supervisor.",
        "err_voucher_invalid": "Voucher tidak bisa dipakai untuk transaksi ini.",
    },
    "en": {
        "app_title": "Kasir",
        "ok": "OK",
        "cancel": "Cancel",
        "back": "Back",
        "save": "Save",
        "close": "Close",
        "search": "Search",
        "clear": "Clear",
        "online": "Online",
        "offline": "Offline",
        "connecting": "Connecting…",
        "sync_stopped": "Sync stopped",
        "waiting": "{n} waiting",
        "rejected": "{n} rejected",
        "last_sync": "Synced {time}",
        "never_synced": "Never synced",
        "sync_now": "Sync",
        "firstrun_title": "Set up this till",
        "firstrun_help": "Enter the server address and the enrollment code from your manager.",
        "server_url": "Server address",
        "enroll_code": "Enrollment code",
        "enroll": "Enroll",
        "enrolling": "Enrolling…",
        "downloading": "Downloading the catalog: {done} of {total}",
        "download_done": "Catalog ready: {n} records.",
        "enroll_failed": "Enrollment failed: {reason}",
        "download_failed": "Download failed: {reason}",
        "need_url_code": "Fill in the server address and the enrollment code.",
        "login_title": "Log in",
        "choose_user": "Choose your name",
        "enter_pin": "Enter {name}'s PIN",
        "login": "Log in",
        "no_users": "No users yet. Sync the catalog first.",
        "wrong_pin": "Wrong PIN; {n} tries left.",
        "locked": "{name} is locked. Try again in {seconds} seconds.",
        "logout": "Log out",
        "sale_title": "Sale",
        "scan_hint": "Scan an item or search by name/SKU",
        "search_hint": "Search products…",
        "cart_empty": "The cart is empty. Scan an item to start.",
        "subtotal": "Subtotal",
        "discount": "Discount",
        "tax": "VAT (PPN)",
        "total": "Total",
        "pay": "Pay",
        "hold": "Hold",
        "resume": "Resume",
        "held_none": "No held sales.",
        "finish_cart_first": "Finish or hold the current cart first.",
        "held_saved": "Sale held: {label}",
        "remove": "Remove",
        "line_discount": "Line discount",
        "discount_amount": "Discount (Rp)",
        "discount_percent": "Discount (%)",
        "approver": "Approver",
        "approver_pin": "Approver PIN",
        "needs_approval": "A supervisor must approve.",
        "added": "Added: {name}",
        "camera": "Camera",
        "camera_on": "Camera on",
        "camera_off": "Camera off",
        "camera_none": "No camera is available. The USB scanner still works.",
        "menu_refund": "Refund",
        "menu_shift": "Shift",
        "menu_stock": "Stock",
        "menu_settings": "Settings",
        "scan_ignored": "Scan ignored on this screen.",
        "payment_title": "Payment",
        "amount_due": "Amount due",
        "tendered": "Cash received",
        "change": "Change",
        "exact": "Exact",
        "pay_cash": "Pay cash",
        "pay_qris": "QRIS",
        "qris_offline": "QRIS needs the internet. The till is offline; take cash.",
        "qris_unavailable": "QRIS is not available on this till yet; take cash.",
        "qris_waiting": "Waiting for payment… {seconds} s",
        "qris_paid": "QRIS paid {amount}",
        "qris_expired": "The QR code expired. Try again or take cash.",
        "qris_failed": "The QRIS payment failed. Try again or take cash.",
        "qris_cancelled": "QRIS cancelled.",
        "qris_starting": "Creating the QR code…",
        "qris_error": "QRIS failed: {reason}",
        "qris_amount": "QRIS for {amount}",
        "paid_qris": "Paid by QRIS",
        "remaining": "Remaining",
        "cash_short": "{amount} short.",
        "receipt_title": "Receipt",
        "print": "Print",
        "reprint": "Reprint",
        "new_sale": "New sale",
        "printing": "Printing…",
        "printed": "Receipt printed.",
        "print_failed": "Printing failed: {reason} The sale is saved.",
        "no_printer": "No printer set up (Settings).",
        "change_due": "Change {amount}",
        "refund_title": "Refund / Void",
        "receipt_number": "Receipt number",
        "find": "Find",
        "refund_hint": "Type or scan the receipt number.",
        "manager": "Manager",
        "manager_pin": "Manager PIN",
        "refund": "Refund",
        "void": "Void sale",
        "refund_done": "Refund of {amount} recorded. Hand over the cash.",
        "void_done": "Sale {number} voided.",
        "sold_refundable": "sold {sold}, refundable {left}",
        "choose_manager": "Choose a manager",
        "refund_nothing": "Choose the quantities to refund.",
        "shift_title": "Shift",
        "shift_none": "No shift is open. Open one with the opening float.",
        "opening_float": "Opening float (Rp)",
        "open_shift": "Open shift",
        "shift_open_since": "Shift open since {time}",
        "amount": "Amount (Rp)",
        "reason": "Reason",
        "cash_in": "Cash in",
        "cash_out": "Cash out",
        "counted_cash": "Counted cash (Rp)",
        "close_shift": "Close shift",
        "x_report": "X report",
        "z_report": "Z report",
        "expected_cash": "Expected cash",
        "variance": "Variance",
        "sales_count": "Sales",
        "sales_total": "Sales total",
        "refunds_total": "Refunds",
        "voids_total": "Voids",
        "cash_in_total": "Cash in",
        "cash_out_total": "Cash out",
        "net_sales": "Net sales",
        "counted": "Counted cash",
        "moved": "Recorded: {amount}",
        "shift_closed": "Shift closed.",
        "stock_title": "Stock lookup",
        "on_hand": "On hand {n} {unit}",
        "stock_hint": "Type a name or scan an item.",
        "nothing_found": "Nothing found.",
        "settings_title": "Settings",
        "printer": "Printer",
        "printer_none": "None",
        "printer_network": "Network (ESC/POS)",
        "printer_usb": "USB",
        "printer_host": "Printer address",
        "printer_port": "Port",
        "printer_device": "USB device",
        "receipt_width": "Receipt width",
        "camera_source": "Camera (number, video or folder)",
        "language": "Language",
        "saved": "Settings saved.",
        "test_print": "Test print",
        "columns": "{n} columns",
        # errors the services raise, by their code (see describe)
        "err_wrong_pin": "Wrong PIN. {attempts_left} attempts left.",
        "err_user_locked": "Too many wrong PINs: this user is locked for a while.",
        "err_not_allowed": "This user's role may not do that.",
        "err_not_logged_in": "Log in with a PIN first.",
        "err_invalid_barcode": "Cannot read that barcode (wrong check digit or length).",
        "err_product_not_found": "No such product in this till's catalog.",
        "err_approval_required": "A discount this large needs a supervisor's PIN.",
        "err_voucher_invalid": "That voucher cannot be used on this sale.",
    },
}

_language = DEFAULT_LANGUAGE


def set_language(code: str) -> None:
    """Switch the language (``"id"`` or ``"en"``); unknown codes are refused."""
    global _language
    if code not in STRINGS:
        raise ValueError(f"unknown language {code!r}")
    _language = code


def language() -> str:
    """The current language code."""
    return _language


def tr(key: str, **values: object) -> str:
    """The sentence ``key`` in the current language, formatted with ``values``."""
    text = STRINGS[_language].get(key) or STRINGS[DEFAULT_LANGUAGE].get(key) or key
    return text.format(**values) if values else text


# -- service errors in Bahasa Indonesia ----------------------------------------------------
#
# The domain and services raise ``DomainError`` with an English sentence that carries the
# specifics (amounts, quantities, receipt numbers, names). In Bahasa Indonesia each sentence
# is matched whole against an English pattern and rewritten from its named groups, so the
# specifics survive. Keep one entry per ``raise`` in ``pos_client/domain`` and
# ``pos_client/services`` (tests/ui/test_i18n_errors.py finds a raise that has none).

_ROLES_ID = {"cashier": "kasir", "supervisor": "supervisor", "manager": "manajer", "admin": "admin"}

_BARCODE_PROBLEMS_ID: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"barcode is empty"), "barcode kosong"),
    (
        re.compile(r"(?P<kind>.+) check digit is wrong \(expected (?P<digit>\d+)\)"),
        "digit cek {kind} salah (seharusnya {digit})",
    ),
    (
        re.compile(r"barcode length does not match any supported symbology"),
        "panjang barcode tidak cocok dengan jenis barcode mana pun",
    ),
    (
        re.compile(r"barcode may contain only printable ASCII without spaces"),
        "barcode hanya boleh berisi huruf, angka dan tanda baca tanpa spasi",
    ),
]


def _approval_subject_id(what: str) -> str:
    """``the order discount`` / ``the discount on Kopi`` / ``Kopi`` in Bahasa Indonesia."""
    if what == "the order discount":
        return "diskon transaksi"
    if what.startswith("the discount on "):
        what = what.removeprefix("the discount on ")
    return f"diskon untuk {what}"


def _barcode_problem_id(problem: str) -> str:
    for pattern, template in _BARCODE_PROBLEMS_ID:
        match = pattern.fullmatch(problem)
        if match:
            return template.format(**match.groupdict())
    return problem


def _percent_id(value: str) -> str:
    return value.replace(".", ",")  # 12.5 → 12,5


def _line_name_id(name: str) -> str:
    return "baris ini" if name == "this line" else name


# Named groups with a special meaning; any other group keeps its text, except that
# thousands written ``12,500`` (Python's ``:,``) become ``12.500`` as Indonesians write them.
_GROUP_ID: dict[str, Callable[[str], str]] = {
    "what": _approval_subject_id,
    "problem": _barcode_problem_id,
    "percent": _percent_id,
    "role": lambda role: _ROLES_ID.get(role, role),
    "line": _line_name_id,
}
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")


def _p(pattern: str, template: str) -> tuple[re.Pattern[str], str]:
    return re.compile(pattern), template


ERROR_PATTERNS_ID: list[tuple[re.Pattern[str], str]] = [
    # cart (pos_client/domain/cart.py)
    _p(r"That line is no longer in the cart\.", "Baris itu sudah tidak ada di keranjang."),
    _p(r"Quantity must be a whole number\.", "Jumlah harus bilangan bulat."),
    _p(
        r"Quantity must be between (?P<low>[\d,]+) and (?P<high>[\d,]+)\.",
        "Jumlah harus antara {low} dan {high}.",
    ),
    _p(
        r"A discount must be a whole, non-negative number\.",
        "Diskon harus bilangan bulat dan tidak boleh negatif.",
    ),
    _p(r"A discount cannot be more than 100%\.", "Diskon tidak boleh lebih dari 100%."),
    _p(r"(?P<name>.+) is not for sale\.", "{name} tidak dijual."),
    _p(
        r"The line discount would be more than the line's price\.",
        "Diskon baris akan melebihi harga baris itu.",
    ),
    _p(
        r"A supervisor must approve (?P<what>.+) \(above (?P<percent>[\d.]+)%\)\.",
        "Supervisor harus menyetujui {what} (di atas {percent}%).",
    ),
    _p(r"The cart is empty\.", "Keranjang kosong."),
    _p(
        r"A line discount cannot be more than the line's price\.",
        "Diskon baris tidak boleh melebihi harga baris itu.",
    ),
    _p(
        r"The order discount cannot be more than the sale\.",
        "Diskon transaksi tidak boleh melebihi nilai penjualan.",
    ),
    # refunds (pos_client/domain/refunds.py, with shared.pricing's refund_amount)
    _p(
        r"Nothing is left to refund on this sale\.",
        "Tidak ada lagi yang bisa diretur dari penjualan ini.",
    ),
    _p(r"That line is not part of this sale\.", "Baris itu bukan bagian dari penjualan ini."),
    _p(r"Refund quantities must be at least 1\.", "Jumlah retur minimal 1."),
    _p(
        r"Only (?P<left>[\d,]+) of (?P<line>.+) can still be refunded\.",
        "Hanya {left} dari {line} yang masih bisa diretur.",
    ),
    _p(r"refund quantity must be positive", "Jumlah retur harus lebih dari 0."),
    _p(r"cannot refund more than was sold", "Tidak bisa meretur lebih dari yang terjual."),
    # tender (pos_client/domain/tender.py)
    _p(r"Rp(?P<amount>[\d,]+) more is needed\.", "Uang masih kurang Rp{amount}."),
    _p(r"A sale cannot have a negative total\.", "Total penjualan tidak boleh negatif."),
    _p(
        r"QRIS payments are more than the sale's total\.",
        "Pembayaran QRIS melebihi total penjualan.",
    ),
    _p(r"Rp(?P<amount>[\d,]+) is still to be paid\.", "Masih harus dibayar Rp{amount}."),
    _p(
        r"No cash is due: QRIS already pays the whole sale\.",
        "Tidak perlu tunai: QRIS sudah membayar seluruh penjualan.",
    ),
    _p(r"A QRIS payment must be more than Rp0\.", "Pembayaran QRIS harus lebih dari Rp0."),
    _p(r"Cash tendered cannot be negative\.", "Uang diterima tidak boleh negatif."),
    # vouchers (pos_client/domain/vouchers.py, cart totals, checkout)
    _p(r"Voucher (?P<code>.+) is no longer active\.", "Voucher {code} sudah tidak aktif."),
    _p(r"Voucher (?P<code>.+) is not valid yet\.", "Voucher {code} belum berlaku."),
    _p(r"Voucher (?P<code>.+) has expired\.", "Voucher {code} sudah kedaluwarsa."),
    _p(r"Voucher (?P<code>.+) has been used up\.", "Kuota voucher {code} sudah habis."),
    _p(
        r"Voucher (?P<code>.+) needs a minimum spend of Rp(?P<amount>[\d,]+)\.",
        "Voucher {code} perlu belanja minimal Rp{amount}.",
    ),
    _p(r"There is no voucher (?P<code>.+)\.", "Voucher {code} tidak ada."),
    # login and approvals (pos_client/services/auth.py)
    _p(r"Wrong PIN; (?P<n>\d+) tries left\.", "PIN salah; sisa {n} percobaan."),
    _p(r"Please log in first\.", "Silakan masuk dulu dengan PIN."),
    _p(
        r"(?P<name>.+) cannot approve this; a (?P<role>.+) must\.",
        "{name} tidak boleh menyetujui ini; harus {role}.",
    ),
    _p(r"That user cannot log in on this till\.", "Pengguna itu tidak bisa masuk di kasir ini."),
    _p(
        r"(?P<name>.+) has no PIN yet; ask a manager to set one\.",
        "{name} belum punya PIN; minta manajer membuatkannya.",
    ),
    _p(
        r"(?P<name>.+) is locked after too many wrong PINs; try again in (?P<seconds>\d+) s\.",
        "{name} terkunci karena terlalu banyak PIN salah; coba lagi dalam {seconds} detik.",
    ),
    _p(
        r"Wrong PIN\. (?P<name>.+) is locked for (?P<seconds>\d+) s\.",
        "PIN salah. {name} terkunci selama {seconds} detik.",
    ),
    # catalog (pos_client/services/catalog.py)
    _p(r"Cannot read that barcode: (?P<problem>.+)\.", "Barcode tidak terbaca: {problem}."),
    _p(
        r"No product has barcode or SKU (?P<code>.+)\.",
        "Produk dengan barcode atau SKU {code} tidak ditemukan.",
    ),
    _p(r"No product has barcode (?P<code>.+)\.", "Produk dengan barcode {code} tidak ditemukan."),
    _p(r"No product has SKU (?P<sku>.+)\.", "Produk dengan SKU {sku} tidak ditemukan."),
    _p(r"That product is not in the catalog\.", "Produk itu tidak ada di katalog."),
    # checkout (pos_client/services/checkout.py)
    _p(r"Open a shift before selling\.", "Buka shift dulu sebelum berjualan."),
    _p(r"There is nothing to hold\.", "Tidak ada yang bisa ditahan."),
    _p(r"Finish or hold the current cart first\.", "Selesaikan atau tahan keranjang ini dulu."),
    _p(r"That held cart is gone\.", "Transaksi yang ditahan itu sudah tidak ada."),
    # refunds and voids (pos_client/services/refunds.py)
    _p(r"No sale (?P<number>.+) on this till\.", "Penjualan {number} tidak ada di kasir ini."),
    _p(r"Open a shift before giving money back\.", "Buka shift dulu sebelum mengembalikan uang."),
    _p(r"That sale is not on this till\.", "Penjualan itu bukan dari kasir ini."),
    _p(
        r"That sale was voided; there is nothing to refund\.",
        "Penjualan itu sudah dibatalkan; tidak ada yang bisa diretur.",
    ),
    # shifts (pos_client/services/shifts.py)
    _p(r"No shift is open\.", "Belum ada shift yang dibuka."),
    _p(r"The float cannot be negative\.", "Modal awal tidak boleh negatif."),
    _p(r"The amount must be more than Rp0\.", "Jumlah harus lebih dari Rp0."),
    _p(r"Counted cash cannot be negative\.", "Uang dihitung tidak boleh negatif."),
    _p(r"That shift is not closed\.", "Shift itu belum ditutup."),
]


def _group_id(name: str, value: str) -> str:
    convert = _GROUP_ID.get(name)
    if convert is not None:
        return convert(value)
    return _THOUSANDS.sub(lambda m: m.group().replace(",", "."), value)


def translate_message_id(message: str) -> str | None:
    """The English service sentence ``message`` in Bahasa Indonesia, or None if unknown."""
    for pattern, template in ERROR_PATTERNS_ID:
        match = pattern.fullmatch(message)
        if match:
            values = {k: _group_id(k, v) for k, v in match.groupdict().items()}
            return template.format(**values)
    return None


def describe(error: Exception) -> str:
    """A service error as a sentence for the cashier in the current language.

    The services speak English with specifics; every error in English keeps its own
    text. In Bahasa Indonesia the sentence is rewritten by :data:`ERROR_PATTERNS_ID`,
    keeping its specifics (amounts, names, receipt numbers); a sentence no pattern knows
    reads from this module's table by the error's stable ``code``, and anything else
    (say, QRIS errors, already in Bahasa Indonesia) keeps its own text. An error that
    speaks both languages itself (a ``text(language)`` method, as QRIS errors have) is
    asked directly.
    """
    bilingual = getattr(error, "text", None)
    if callable(bilingual):
        return str(bilingual(_language))
    if _language == "en":
        return str(error)
    translated = translate_message_id(str(error))
    if translated is not None:
        return translated
    code = getattr(error, "code", None)
    key = f"err_{code}"
    if not code or key not in STRINGS[_language]:
        return str(error)
    return tr(key, attempts_left=getattr(error, "attempts_left", ""))
