"""Pesan galat dalam Bahasa Indonesia, menurut kode (see :mod:`shared.messages`)."""

MESSAGES: dict[str, str] = {
    "error": "Terjadi galat.",
    # -- the till's own errors, by the class that raises them ------------------------
    "domain_error": "Kasir tidak bisa melakukan itu.",
    "cart_error": "Keranjang tidak bisa melakukan itu.",
    "voucher_invalid": "Voucher tidak bisa dipakai untuk transaksi ini.",
    "payment_error": "Pembayaran ini tidak melunasi penjualan.",
    "refund_error": "Retur itu tidak diizinkan.",
    "approval_required": "Diskon sebesar ini perlu persetujuan PIN penyelia.",
    "shift_error": "Shift tidak bisa melakukan itu.",
    "auth_error": "Masuk ditolak.",
    "invalid_barcode": "Barcode tidak terbaca (digit cek atau panjangnya salah).",
    "product_not_found": "Produk tidak ditemukan di katalog kasir ini.",
    # -- cart (pos_client/domain/cart.py) ----------------------------------------------
    "line_gone": "Baris itu sudah tidak ada di keranjang.",
    "quantity_not_whole": "Jumlah harus bilangan bulat.",
    "quantity_out_of_range": "Jumlah harus antara {low:num} dan {high:num}.",
    "discount_not_whole": "Diskon harus bilangan bulat dan tidak boleh negatif.",
    "discount_over_100": "Diskon tidak boleh lebih dari 100%.",
    "product_not_for_sale": "{name} tidak dijual.",
    "line_discount_over_quantity_price": "Diskon baris akan melebihi harga baris itu.",
    "line_discount_over_price": "Diskon baris tidak boleh melebihi harga baris itu.",
    "order_discount_over_sale": "Diskon transaksi tidak boleh melebihi nilai penjualan.",
    "approval_required_line": (
        "Penyelia harus menyetujui diskon untuk {product} (di atas {threshold_bp:bp}%)."
    ),
    "approval_required_order": (
        "Penyelia harus menyetujui diskon transaksi (di atas {threshold_bp:bp}%)."
    ),
    "cart_empty": "Keranjang kosong.",
    # -- tender (pos_client/domain/tender.py) ------------------------------------------
    "cash_short": "Uang masih kurang Rp{amount:num}.",
    "negative_total": "Total penjualan tidak boleh negatif.",
    "qris_payment_not_positive": "Pembayaran QRIS harus lebih dari Rp0.",
    "cash_negative": "Uang diterima tidak boleh negatif.",
    "qris_over_total": "Pembayaran QRIS melebihi total penjualan.",
    "still_to_pay": "Masih harus dibayar Rp{amount:num}.",
    "no_cash_due": "Tidak perlu tunai: QRIS sudah membayar seluruh penjualan.",
    "sale_already_paid": "Penjualan ini sudah dibayar.",
    # -- vouchers (pos_client/domain/vouchers.py, checkout) ----------------------------
    "voucher_inactive": "Voucher {code} sudah tidak aktif.",
    "voucher_not_yet_valid": "Voucher {code} belum berlaku.",
    "voucher_expired": "Voucher {code} sudah kedaluwarsa.",
    "voucher_used_up": "Kuota voucher {code} sudah habis.",
    "voucher_min_spend": "Voucher {code} perlu belanja minimal Rp{amount:num}.",
    "voucher_unknown": "Voucher {code} tidak ada.",
    "voucher_code_missing": "Ketik kode voucher dulu.",
    # -- refunds (pos_client/domain/refunds.py, services/refunds.py) -------------------
    "refund_line_not_in_sale": "Baris itu bukan bagian dari penjualan ini.",
    "refund_quantity_below_one": "Jumlah retur minimal 1.",
    "refund_only_left": "Hanya {left} dari {name} yang masih bisa diretur.",
    "refund_only_left_line": "Hanya {left} dari baris ini yang masih bisa diretur.",
    "refund_nothing_left": "Tidak ada lagi yang bisa diretur dari penjualan ini.",
    "sale_not_found": "Penjualan {number} tidak ada di kasir ini.",
    "shift_required_to_refund": "Buka shift dulu sebelum mengembalikan uang.",
    "sale_not_on_till": "Penjualan itu bukan dari kasir ini.",
    "sale_voided": "Penjualan itu sudah dibatalkan; tidak ada yang bisa diretur.",
    "refund_reason_required": "Pilih atau tulis alasan retur dulu.",
    "refund_outside_needs_qris": (
        "Hanya penjualan yang dibayar dengan QRIS yang bisa dikembalikan di luar kasir."
    ),
    "refund_not_found": "Retur itu tidak ada di kasir ini.",
    # -- prices (shared/pricing.py) ----------------------------------------------------
    "pricing_denominator": "Pembagi harus lebih dari 0.",
    "pricing_negative_order_discount": "Diskon transaksi tidak boleh negatif.",
    "pricing_quantity": "Jumlah harus lebih dari 0.",
    "pricing_negative": "Harga, diskon dan tarif pajak tidak boleh negatif.",
    "pricing_line_discount": "Diskon baris tidak boleh melebihi harga baris itu.",
    "pricing_order_discount": "Diskon transaksi tidak boleh melebihi nilai penjualan.",
    "pricing_refund_quantity": "Jumlah retur harus lebih dari 0.",
    "pricing_refund_too_many": "Tidak bisa meretur lebih dari yang terjual.",
    # -- login and approvals (pos_client/services/auth.py) -----------------------------
    "not_logged_in": "Silakan masuk dulu dengan PIN.",
    "not_allowed": "{name} tidak boleh menyetujui ini; harus {role:msg:role_}.",
    "role_cashier": "kasir",
    "role_supervisor": "penyelia",
    "role_manager": "manajer",
    "role_admin": "administrator",
    "user_cannot_log_in": "Pengguna itu tidak bisa masuk di kasir ini.",
    "user_has_no_pin": "{name} belum punya PIN; minta manajer membuatkannya.",
    "user_locked": (
        "{name} terkunci karena terlalu banyak PIN salah; coba lagi dalam {seconds} detik."
    ),
    "wrong_pin_locked": "PIN salah. {name} terkunci selama {seconds} detik.",
    "wrong_pin": "PIN salah; sisa {attempts_left} percobaan.",
    "user_unknown": "Tidak ada pengguna '{username}' di kasir ini.",
    # -- catalog and barcodes (pos_client/services/catalog.py, shared/barcodes.py) -----
    "barcode_unreadable": "Barcode tidak terbaca: {problem:msg}.",
    "barcode_empty": "barcode kosong",
    "barcode_check_digit": "digit cek {kind} salah (seharusnya {digit})",
    "barcode_length": "panjang barcode tidak cocok dengan jenis barcode mana pun",
    "barcode_charset": "barcode hanya boleh berisi huruf, angka dan tanda baca tanpa spasi",
    "product_not_found_barcode": "Produk dengan barcode {code} tidak ditemukan.",
    "product_not_found_sku": "Produk dengan SKU {sku} tidak ditemukan.",
    "product_not_found_code": "Produk dengan barcode atau SKU {code} tidak ditemukan.",
    "product_not_in_catalog": "Produk itu tidak ada di katalog.",
    "product_not_found_item_code": (
        "Label {code}: tidak ada produk dengan kode barang {item_code} di katalog kasir ini."
    ),
    "measured_weight_zero": "Label {name} tidak berisi berat; timbang ulang dan cetak lagi.",
    "measured_price_zero": "Label {name} tidak berisi harga; cetak label yang benar.",
    # -- checkout (pos_client/services/checkout.py) ------------------------------------
    "shift_required_to_sell": "Buka shift dulu sebelum berjualan.",
    "nothing_to_hold": "Tidak ada yang bisa ditahan.",
    "cart_not_empty": "Selesaikan atau tahan keranjang ini dulu.",
    "held_cart_gone": "Transaksi yang ditahan itu sudah tidak ada.",
    # -- shifts (pos_client/services/shifts.py) ----------------------------------------
    "no_open_shift": "Belum ada shift yang dibuka.",
    "float_negative": "Modal awal tidak boleh negatif.",
    "cash_move_zero": "Jumlah harus lebih dari Rp0.",
    "denomination_count_negative": "Jumlah lembar atau keping tidak boleh negatif.",
    "counted_cash_negative": "Uang dihitung tidak boleh negatif.",
    "shift_not_closed": "Shift itu belum ditutup.",
    # -- the till's store checks again inside its transaction (pos_client/store/) ------
    "sale_already_voided": "Penjualan itu sudah dibatalkan.",
    "void_after_refund": (
        "Penjualan yang sudah diretur tidak bisa dibatalkan; returkan sisanya saja."
    ),
    "refund_amount_mismatch": "Jumlah retur tidak cocok dengan penjualannya.",
    "refund_total_mismatch": "Total retur bukan jumlah baris-barisnya.",
    "shift_already_open": "Sudah ada shift yang terbuka di kasir ini.",
    "shift_not_open": "Shift itu tidak sedang terbuka.",
    "cash_move_needs_open_shift": "Uang kas hanya bisa keluar-masuk selama shift terbuka.",
    "shift_unknown": "Shift tidak dikenal.",
    # -- the server's answers, as the till's sync client reports them ------------------
    "sync_error": "Server tidak bisa dipakai: {message}",
    "sync_offline": "Server tidak terjangkau sekarang; kasir tetap bekerja offline.",
    "sync_protocol_mismatch": "Aplikasi kasir perlu diperbarui untuk terhubung ke server.",
    "sync_auth_revoked": "Kasir ini tidak lagi terdaftar di server; hubungi manajer.",
    "server_refused": "Server menolak ini: {message}",
    "payment_gateway_error": (
        "Layanan QRIS (Tripay) sedang bermasalah. Coba lagi, atau terima tunai."
    ),
    # -- QRIS at the till ---------------------------------------------------------------
    "qris_error": "QRIS tidak bisa dipakai sekarang. Terima tunai.",
    "qris_unavailable": "QRIS sedang tidak tersedia. Terima tunai.",
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
    "qris_server_refused": "Server menolak pembayaran QRIS ini: {reason:msg}",
    "qris_auth_revoked": (
        "Kasir ini tidak lagi terdaftar di server, jadi QRIS tidak bisa dipakai. "
        "Terima tunai dan hubungi manajer."
    ),
    "qris_protocol_mismatch": "Aplikasi kasir perlu diperbarui untuk memakai QRIS. Terima tunai.",
    "qris_already_used": "Pembayaran QRIS ini sudah dipakai untuk penjualan lain.",
    "qris_unknown_order": "Tidak ada pembayaran QRIS {order_id}.",
    # -- manager area (pos_client/services/manager.py) ---------------------------------
    "manager_error": "Area manajer tidak bisa melakukan itu.",
    "manager_offline": (
        "Server tidak bisa dihubungi, jadi pengguna tidak bisa dikelola sekarang. "
        "Coba lagi saat kasir online."
    ),
    "manager_sign_in_needed": "Masuk ke server dulu dengan kata sandi manajer Anda.",
    "manager_bad_username": (
        "Nama pengguna 2–64 huruf, angka, titik, garis bawah atau tanda hubung, tanpa spasi."
    ),
    "manager_name_needed": "Isi nama lengkap kasir.",
    "manager_bad_pin": "PIN harus 4 sampai 8 angka.",
    "qris_static_button": "QRIS statis",
    "qris_static_offline": (
        "Kasir offline: QRIS dinamis tidak bisa. Bisa pakai QRIS statis toko; "
        "cek bukti bayar pelanggan."
    ),
    "qris_static_amount": "Pelanggan memindai QR toko dan mengetik {amount:rupiah}",
    "qris_static_check": "Konfirmasi hanya setelah melihat bukti bayar di HP pelanggan.",
    "qris_static_confirm": "Sudah dibayar",
    "qris_static_paid": "QRIS statis {amount:rupiah} dikonfirmasi oleh {cashier}",
    "manager_sign_in_refused": "Server menolak masuk: {message}",
    "manager_wrong_password": "Kata sandi salah.",
    "manager_password_locked": (
        "Terlalu banyak kata sandi salah. Coba lagi dalam {retry_after_seconds} detik."
    ),
    # -- server --
    "missing_token": "Masuk atau kirim token bearer.",
    "terminal_revoked": "Akses terminal ini dicabut; minta manajer mendaftarkannya lagi.",
    "invalid_token": "Token tidak sah.",
    "token_signed_out": "Token ini sudah keluar; silakan masuk lagi.",
    "token_expired": "Token kedaluwarsa; silakan masuk lagi.",
    "user_inactive": "Pengguna ini dinonaktifkan.",
    "user_required": "Terminal tidak boleh melakukan ini; masuk sebagai pengguna.",
    "role_required": "Ini memerlukan peran {required} atau lebih tinggi.",
    "protocol_mismatch": (
        "Kasir ini memakai protokol sinkronisasi {client_protocol}, server memakai "
        "{server_protocol}. Perbarui aplikasi Kasir di kasir ini."
    ),
    "terminal_required": "Hanya terminal terdaftar yang boleh memanggil ini.",
    "admin_manages_role": "Hanya admin yang boleh mengelola pengguna dengan peran {role}.",
    "username_taken": "Nama pengguna {username} sudah dipakai.",
    "role_needs_store": "Seorang {role} terikat pada toko; isi store_id.",
    "store_not_found": "Tidak ada toko {store_id}.",
    "user_not_found": "Tidak ada pengguna {user_id}.",
    "self_change": "Anda tidak boleh mengubah peran sendiri atau menonaktifkan diri sendiri.",
    "role_needs_store_none": "Seorang {role} terikat pada toko; pengguna ini tidak punya toko.",
    "terminal_just_created": "Terminal {terminal_code} baru saja dibuat orang lain; minta lagi.",
    "terminal_code_other_store": "Kode terminal {terminal_code} milik toko lain.",
    "terminal_enrolled": (
        "Terminal {terminal_code} sudah terdaftar; cabut dulu sebelum mendaftarkannya lagi."
    ),
    "enrollment_code_invalid": "Kode pendaftaran ini tidak dikenal; periksa lagi.",
    "enrollment_code_used": "Kode pendaftaran ini sudah dipakai; minta kode baru ke manajer.",
    "enrollment_code_expired": "Kode pendaftaran ini kedaluwarsa; minta kode baru ke manajer.",
    "terminal_not_found": "Tidak ada terminal {terminal_id}.",
    "barcode_used": "Barcode itu sudah dipakai produk lain.",
    "sku_used": "SKU itu sudah dipakai produk lain.",
    "category_name_used": "Kategori dengan nama itu sudah ada.",
    "tax_code_used": "Tarif pajak dengan kode itu sudah ada.",
    "voucher_code_used": "Voucher dengan kode itu sudah ada.",
    "conflict_stored": "Perubahan ini bertentangan dengan data yang tersimpan.",
    "category_taken": "Kategori bernama {name} sudah ada.",
    "tax_code_taken": "Tarif pajak dengan kode {tax_code} sudah ada.",
    "voucher_code_taken": "Voucher dengan kode {voucher_code} sudah ada.",
    "category_not_found": "Tidak ada kategori {category_id}.",
    "tax_rate_not_found": "Tidak ada tarif pajak {tax_rate_id}.",
    "product_id_not_found": "Tidak ada produk {product_id}.",
    "voucher_not_found": "Tidak ada voucher {voucher_id}.",
    "bad_barcode_empty": "Barcode {barcode}: barcode kosong.",
    "bad_barcode_check_digit": (
        "Barcode {barcode}: digit periksa {kind} salah (seharusnya {digit})."
    ),
    "bad_barcode_length": (
        "Barcode {barcode}: panjang barcode tidak cocok dengan simbologi yang didukung."
    ),
    "bad_barcode_charset": (
        "Barcode {barcode}: barcode hanya boleh berisi ASCII tercetak tanpa spasi."
    ),
    "product_value_taken": "{field} {value} sudah dipakai produk {product_name}.",
    "sku_name_blank": "SKU dan nama tidak boleh kosong.",
    "field_blank": "{field} tidak boleh kosong.",
    "field_not_null": "{field} tidak boleh null.",
    "bad_voucher_value": (
        "Nilai voucher persen dalam basis poin (1000 = 10 %) dan paling banyak 10000."
    ),
    "naive_datetime": "{field} memerlukan zona waktu, mis. 2025-01-01T00:00:00+07:00.",
    "bad_validity": "valid_from harus sebelum valid_until.",
    "category_name_empty": "Nama kategori kosong.",
    "bad_encoding": "Berkas ini bukan teks UTF-8; simpan sebagai 'CSV UTF-8' lalu coba lagi.",
    "empty_csv": "Berkas kosong; perlu baris judul.",
    "bad_csv_header": (
        "Baris 1 harus berupa judul yang menyebut kolom ({columns}); sku, name dan price wajib ada."
    ),
    "csv_too_long": "Berkas berisi lebih dari {max_lines} baris; pecah berkasnya.",
    "import_conflict": (
        "Katalog berubah saat berkas ini diimpor; tidak ada yang diimpor. Impor berkas itu lagi."
    ),
    "malformed_json": "Isi permintaan bukan JSON yang sah.",
    "request_invalid": "Permintaan tidak sesuai skema.",
    "internal_error": "Terjadi kesalahan di server.",
    "database_unavailable": (
        "Database tidak dapat menyimpan saat ini; tidak ada yang berubah. Coba lagi."
    ),
    "store_required": "Sebutkan tokonya (store_id).",
    "stock_other_store": "Anda hanya dapat mengelola stok toko Anda sendiri.",
    "unknown_store": "Toko {store_id} tidak ada.",
    "unknown_products": "Produk tidak dikenal: {product_ids}.",
    "zero_adjustment": "Penyesuaian nol tidak mengubah apa pun.",
    "duplicate_product": "Hitung setiap produk sekali per stok opname.",
    "order_amount_out_of_range": (
        "QRIS menerima {minimum:,} sampai {maximum:,} rupiah; pesanan ini {amount:,}. Terima "
        "tunai, atau pisah pembayarannya."
    ),
    "order_conflict": "Pesanan {order_id} sudah ada dengan isi lain; pakai nomor pesanan baru.",
    "tripay_conflict": (
        "Tripay menjawab dengan transaksi lain untuk pesanan ini. Tanyakan ke manajer."
    ),
    "expiry_out_of_range": "Kode {method} berlaku {minimum} sampai {maximum} menit.",
    "order_payment_in_progress": "QR untuk pesanan ini masih dibuat; coba lagi sebentar lagi.",
    "order_not_found": "Tidak ada pesanan pembayaran {order_id} untuk kasir ini.",
    "bad_period": "Periode berakhir sebelum dimulai.",
    "period_too_long": "Laporan mencakup paling banyak {max_days} hari.",
    "bad_order": "Urutkan menurut pendapatan atau jumlah.",
    "unknown_rejected_event": "Tidak ada kejadian ditolak {event_id}.",
    "value_out_of_range": "Ada nilai yang terlalu besar untuk disimpan server.",
    "label_too_long": (
        "Barcode {barcode} terlalu panjang untuk dicetak pada label selebar {width_mm} mm; "
        "pakai kode yang lebih pendek."
    ),
    "flag_not_found": "Tidak ada tanda {flag_id}.",
    "flag_already_resolved": "Tanda {flag_id} sudah diselesaikan.",
    "qris_disabled": "QRIS belum diaktifkan di server toko ini. Terima pembayaran tunai.",
    "metrics_token_required": "Metrik hanya untuk Prometheus: kirim token metrik sebagai Bearer.",
    "static_qris_invalid": (
        "Payload QRIS statis tidak sah: tempel teks lengkap dari QR toko "
        "(diawali 000201, diakhiri CRC tag 63)."
    ),
}
