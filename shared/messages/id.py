"""Pesan galat dalam Bahasa Indonesia, menurut kode (see :mod:`shared.messages`)."""

MESSAGES: dict[str, str] = {
    "error": "Terjadi galat.",
    # -- the till's own errors, by the class that raises them ------------------------
    "domain_error": "Kasir tidak bisa melakukan itu.",
    "cart_error": "Keranjang tidak bisa melakukan itu.",
    "voucher_invalid": "Voucher tidak bisa dipakai untuk transaksi ini.",
    "share_contact_invalid": "Nomor WhatsApp atau alamat e-mail ini tidak bisa dipakai.",
    "share_phone_invalid": (
        "Nomor WhatsApp {phone} tidak bisa dipakai: tulis seperti 0812 3456 7890."
    ),
    "share_email_invalid": "Alamat e-mail {address} tidak sah: tulis seperti nama@contoh.com.",
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
    "quantity_unreadable": '"{text}" bukan jumlah; ketik angka seperti 2 atau 0,75.',
    "quantity_too_precise": "Berat paling banyak 3 angka di belakang koma (gram).",
    "quantity_not_whole_unit": (
        "{name} dijual per {unit}, bukan ditimbang: jumlahnya harus bilangan bulat."
    ),
    "weight_out_of_range": "Berat harus antara {low} dan {high}.",
    # -- scanner settings (pos_client/scanner/wedge.py) ----------------------------------
    "scanner_suffix_unknown": "Akhiran pemindai {suffix} tidak dikenal; pilih Enter atau Tab.",
    "scanner_prefix_invalid": (
        "Awalan pemindai harus satu karakter yang terlihat (misalnya ~), atau kosong."
    ),
    "scanner_gap_out_of_range": "Jeda antar tombol harus {low}–{high} milidetik.",
    "scanner_length_out_of_range": "Panjang kode minimal harus {low}–{high} karakter.",
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
    "answer_damaged": (
        "Jawaban server untuk {path} rusak di jalan ({fault:msg:answer_fault_}); akan diambil lagi."
    ),
    "pull_page_damaged": (
        "Halaman perubahan setelah nomor {cursor:num} rusak di jalan "
        "({fault:msg:answer_fault_}); tidak disimpan, akan diambil lagi."
    ),
    "answer_fault_cut": "terpotong",
    "answer_fault_corrupt": "isinya rusak",
    "answer_fault_invalid": "bukan jawaban yang sah",
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
    "batch_too_large": "Satu kiriman paling banyak memuat {limit_events:num} event.",
    "overloaded": (
        "Server sedang sibuk melayani kasir lain; tidak ada yang berubah. "
        "Coba lagi dalam {retry_after:num} detik."
    ),
    "store_required": "Sebutkan tokonya (store_id).",
    "stock_other_store": "Anda hanya dapat mengelola stok toko Anda sendiri.",
    "unknown_store": "Toko {store_id} tidak ada.",
    # -- outlets: prices and transfers (sync_server/outlets) -------------------------
    "transfer_not_found": "Tidak ada transfer {transfer_id}.",
    "transfer_conflict": (
        "Transfer {transfer_id} sudah ada dengan isi lain; pakai nomor transfer baru."
    ),
    "transfer_state": "Langkah itu tidak bisa lagi: transfer ini sudah {status}.",
    "transfer_line_unknown": "Produk {product_ids} tidak ada dalam transfer ini.",
    "transfer_over_received": "Jumlah diterima produk {product_ids} melebihi yang dikirim.",
    "transfer_loss_reason": "Sebagian barang tidak sampai: tulis alasannya (hilang, rusak...).",
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
    # -- sales and shifts (sync_server/sales) ----------------------------------------
    "sale_unknown": "Transaksi {sale_id} tidak ditemukan.",
    "shift_not_found": "Shift {shift_id} tidak ditemukan.",
    "bad_cursor": "Penanda halaman tidak dikenali; muat ulang daftar dari halaman pertama.",
    # -- the Tripay client (sync_server/payments/tripay.py) --------------------------
    "tripay_timed_out": (
        "Tripay tidak menjawab tepat waktu, jadi QRIS belum bisa dipakai sekarang. "
        "Coba lagi, atau terima tunai."
    ),
    "tripay_unreachable": (
        "Server tidak bisa menghubungi Tripay, jadi QRIS belum bisa dipakai sekarang. "
        "Coba lagi, atau terima tunai."
    ),
    "tripay_server_error": (
        "Tripay sedang bermasalah (HTTP {http_status}), jadi QRIS belum bisa dipakai sekarang. "
        "Coba lagi sebentar lagi, atau terima tunai."
    ),
    "tripay_bad_answer": ("Jawaban Tripay tidak bisa dibaca server. Coba lagi, atau terima tunai."),
    "tripay_refused": "Tripay menolak permintaan ini: {tripay_message}",
    "tripay_other_order": ("Tripay menjawab tentang pesanan lain. Coba lagi, atau terima tunai."),
    "tripay_bad_status": "Status dari Tripay tidak bisa dibaca server.",
    # -- backup, restore and till exports (sync_server/backup.py) -------------------
    "backup_backend_unsupported": "Basis data {backend} tidak bisa dicadangkan.",
    "backup_in_memory": "Basis data SQLite di memori tidak bisa dicadangkan.",
    "backup_source_missing": "Tidak ada berkas basis data di {path}.",
    "backup_no_database": "URL basis data tidak menyebut nama basis data.",
    "backup_dump_missing": "mariadb-dump belum terpasang di mesin ini.",
    "backup_failed": "mariadb-dump gagal (kode keluar {status}): {why:msg}",
    "backup_incomplete": "hasil dump tidak lengkap",
    "backup_not_found": "Tidak ada berkas cadangan di {path}.",
    "backup_manifest_missing": (
        "Cadangan {backup} tidak punya manifes ({manifest}); cadangan itu tidak bisa "
        "diperiksa, jadi tidak dipulihkan."
    ),
    "backup_manifest_invalid": "Manifes {manifest} rusak: {reason}.",
    "backup_corrupt": (
        "Cadangan {backup} rusak atau tidak lengkap ({why:msg}); tidak ada yang dipulihkan."
    ),
    "backup_why_size": "{size} bita, menurut manifes {expected_size}",
    "backup_why_sha256": "sha256-nya berbeda dari manifes",
    "backup_why_schema": "skema {revision}, menurut manifes {expected_revision}",
    "backup_why_content": "isinya berbeda dari yang dicadangkan",
    "backup_why_row_counts": "jumlah barisnya berbeda dari manifes",
    "backup_why_integrity": "pemeriksaan integritas: {check}",
    "backup_why_no_closing_line": "dump tidak punya baris penutup",
    "backup_schema_unknown": (
        "Cadangan ini pada revisi skema {revision}, yang tidak dikenal Kasir ini ({version}): "
        "pulihkan dengan Kasir yang lebih baru."
    ),
    "restore_backend_unsupported": "Pemulihan ke {backend} tidak didukung.",
    "backup_format_mismatch": (
        "Cadangan ini berformat {format}; basis data yang diatur adalah {backend}."
    ),
    "restore_target_not_empty": (
        "Basis data tujuan {where} tidak kosong (ada baris di {tables}); pulihkan ke basis "
        "data kosong, atau pakai --force untuk mengganti isinya."
    ),
    "restore_mismatch": (
        "Basis data hasil pemulihan tidak sama dengan isi cadangan (tabel {tables})."
    ),
    "restore_client_missing": "Klien mariadb belum terpasang di mesin ini.",
    "restore_failed": "Memuat cadangan gagal (kode keluar {status}): {why}",
    "till_export_not_found": "Tidak ada berkas di {path}.",
    "till_export_invalid": (
        "Ekspor kasir {file} tidak bisa diimpor ({why:msg}); tidak ada yang diterapkan."
    ),
    "till_export_why_not_export": "ini bukan ekspor kasir",
    "till_export_why_cut": "baris sha256 penutupnya hilang; mungkin terpotong",
    "till_export_why_sha256": "isinya tidak cocok dengan sha256-nya",
    "till_export_why_malformed": "formatnya salah: {reason}",
    "till_export_why_version": "versi format {version} bukan {expected_version}",
    "till_export_why_count": "{events} peristiwa, menurut kepala berkas {expected_events}",
    "till_export_terminal_unknown": (
        "Ekspor kasir {file} menyebut terminal {terminal_code} (id {terminal_id}, toko "
        "{store_id}), yang bukan terminal server ini; tidak ada yang diterapkan."
    ),
    "till_export_terminal_not_enrolled": (
        "Terminal {terminal_code} belum terdaftar (atau dicabut); ekspornya tidak diimpor."
    ),
    "demo_catalog_unavailable": "Katalog demo tidak tersedia ({reason}).",
    "no_store_yet": "Belum ada toko.",
    "login_locked": "Terlalu banyak kata sandi salah. Coba lagi dalam {seconds} detik.",
    "invalid_credentials": "Nama pengguna atau kata sandi salah.",
    "back_office_only": "Back office hanya untuk manajer dan admin.",
    "store_code_taken": "Kode toko '{store_code}' sudah dipakai.",
    "store_code_not_found": "Tidak ada toko dengan kode '{store_code}'.",
    "other_store": "Anda hanya boleh melihat dan mengelola toko Anda sendiri.",
    "store_name_empty": "Nama toko kosong.",
    "unknown_report": "Laporan tidak dikenal.",
    "no_labels": "Tidak ada produk berbarcode yang dipilih.",
    "web_forbidden": "Anda tidak boleh membuka halaman ini.",
    "web_terminal_refused": "Terminal kasir tidak boleh membuka back office.",
    "web_csrf_mismatch": "Token formulir (CSRF) tidak cocok. Muat ulang halaman dan coba lagi.",
    "web_catalog_admin_only": "Katalog (produk, harga, PPN) hanya bisa diubah oleh admin.",
    "web_login_form_expired": "Formulir masuk kedaluwarsa. Muat ulang halaman dan coba lagi.",
    # -- a CSV catalog import's line problems (sync_server/catalog/csv_io.py) --------
    "csv_field_count": (
        "baris ini punya {fields} kolom, padahal kepala berkas punya {expected} "
        "(beri tanda kutip ganda pada nilai yang berisi koma)"
    ),
    "csv_value_too_long": "{column} lebih dari {max_length} karakter",
    "csv_sku_missing": "sku kosong",
    "csv_sku_repeated": "sku {sku} juga ada di baris {other_line}",
    "csv_name_missing": "name kosong",
    "csv_price_missing": "price kosong",
    "csv_price_negative": "price {price} negatif",
    "csv_price_not_whole": (
        "price {price!r} bukan bilangan bulat rupiah "
        "(tulis 12500: tanpa titik, koma, desimal, atau 'Rp')"
    ),
    "csv_price_too_large": "price {price} terlalu besar",
    "csv_barcode_invalid": "barcode {barcode}: {why:msg}",
    "barcode_too_long": "barcode terlalu panjang",
    "csv_barcode_repeated": "barcode {barcode} juga ada di baris {other_line}",
    "csv_barcode_taken": "barcode {barcode} sudah dipakai produk {sku}",
    "csv_tax_code_unknown": "kode pajak {tax_code} tidak dikenal (yang ada: {known:msg})",
    "csv_no_tax_codes": "belum ada",
    "csv_active_not_boolean": "active {active!r} bukan true atau false",
    "csv_threshold_not_whole": "low_stock_threshold {threshold!r} bukan bilangan bulat ≥ 0",
    # -- customers and loyalty points (sync_server/customers, pos_client customers) ----
    "customer_not_found": "Pelanggan {customer_id} tidak ditemukan.",
    "customer_phone_taken": "Nomor {phone} sudah dipakai pelanggan lain.",
    "customer_phone_invalid": (
        "Nomor telepon {phone} tidak sah: tulis 08…, 628… atau +628… (8–12 digit setelah 0)."
    ),
    "customer_phone_unknown": "Belum ada pelanggan dengan nomor {phone}.",
    "customer_phone_required": "Cari pelanggan dengan nomor telepon.",
    "customer_name_required": "Tulis nama pelanggan (1–100 huruf).",
    "customer_email_invalid": "Alamat e-mail {email} tidak sah.",
    "customer_required": "Pilih pelanggan dulu.",
    "points_disabled": "Poin pelanggan belum diaktifkan.",
    "points_over_balance": "Poin yang bisa ditukar hanya {available:num}.",
    "points_over_total": "Potongan poin tidak boleh melebihi total belanja.",
    "ui_customer_button": "Pelanggan",
    "ui_customer_set": "Pelanggan: {name}",
    "ui_customer_title": "Pelanggan",
    "ui_customer_phone_hint": "Nomor HP, mis. 0812 3456 7890",
    "ui_customer_name_hint": "Nama (untuk pelanggan baru)",
    "ui_customer_find": "Cari",
    "ui_customer_register": "Daftarkan",
    "ui_customer_remove": "Lepas",
    "ui_customer_done": "Selesai",
    "ui_customer_found": "{name} · {phone} · {points:num} poin",
    "ui_customer_not_found": "Nomor ini belum terdaftar: tulis namanya lalu tekan Daftarkan.",
    "ui_customer_redeem": "Tukar {points:num} poin (−Rp{amount:num})",
    "ui_customer_redeem_none": "Tidak ada poin yang bisa ditukar",
    "ui_customer_redeemed": "{points:num} poin ditukar: −Rp{amount:num}",
    "qris_disabled": "QRIS belum diaktifkan di server toko ini. Terima pembayaran tunai.",
    "metrics_token_required": "Metrik hanya untuk Prometheus: kirim token metrik sebagai Bearer.",
    "static_qris_invalid": (
        "Payload QRIS statis tidak sah: tempel teks lengkap dari QR toko "
        "(diawali 000201, diakhiri CRC tag 63)."
    ),
    # purchasing (suppliers, purchase orders, receiving, stock requests)
    "supplier_not_found": "Pemasok {supplier_id} tidak ditemukan.",
    "supplier_inactive": "Pemasok {supplier_id} sudah tidak aktif.",
    "purchase_order_not_found": "Pesanan pembelian {order_id} tidak ditemukan.",
    "po_bad_transition": "Pesanan pembelian ini tidak bisa diubah begitu: statusnya {status}.",
    "po_product_not_ordered": "Produk {product_id} tidak ada di pesanan pembelian ini.",
    "po_over_receive": (
        "Produk {product_id} diterima melebihi pesanan: sisa yang belum datang {remaining}."
    ),
    "receipt_conflict": (
        "Penerimaan {receipt_id} sudah dicatat dengan isi lain; pakai id penerimaan baru."
    ),
    "stock_request_not_found": "Permintaan stok {request_id} tidak ditemukan.",
    "request_bad_transition": "Permintaan stok ini tidak bisa diubah begitu: statusnya {status}.",
    "nothing_to_order": "Tidak ada produk yang perlu dipesan: stok di atas titik pesan ulang.",
    # why the server refused a till's transaction (back office, by rejection code)
    "rejected_already_voided": "Penjualan ini sudah dibatalkan sebelumnya.",
    "rejected_approval_required": "Perlu persetujuan supervisor atau manajer toko ini.",
    "rejected_duplicate_no_sale": "Buka laci ini sudah tercatat.",
    "rejected_duplicate_receipt": "Nomor struk ini sudah dipakai penjualan lain.",
    "rejected_duplicate_refund": "Retur ini sudah tercatat.",
    "rejected_duplicate_sale": "Penjualan ini sudah tercatat.",
    "rejected_duplicate_shift": "Shift ini sudah tercatat.",
    "rejected_id_conflict": "ID transaksi ini sudah dipakai data lain.",
    "rejected_invalid_event_id": "ID transaksi tidak sah.",
    "rejected_invalid_payload": "Isi transaksi tidak lengkap atau tidak sah.",
    "rejected_payments_mismatch": "Jumlah pembayaran tidak sama dengan total penjualan.",
    "rejected_receipt_terminal_mismatch": "Nomor struk bukan milik terminal ini.",
    "rejected_refund_amount_mismatch": "Nilai retur tidak cocok dengan baris yang diretur.",
    "rejected_refund_exceeds_sale": "Retur melebihi jumlah yang dibeli.",
    "rejected_sale_has_refunds": (
        "Penjualan yang sudah diretur tidak bisa dibatalkan; retur sisanya."
    ),
    "rejected_sale_voided": "Penjualan ini sudah dibatalkan.",
    "rejected_shift_closed": "Shift ini sudah ditutup.",
    "rejected_shift_terminal_mismatch": "Shift ini milik terminal lain.",
    "rejected_time_out_of_range": "Waktu transaksi di luar rentang yang bisa disimpan.",
    "rejected_totals_mismatch": "Total transaksi tidak cocok dengan baris-barisnya.",
    "rejected_unknown_cashier": "Kasir tidak dikenal atau tidak aktif di toko ini.",
    "rejected_unknown_event_type": "Jenis transaksi tidak dikenal server.",
    "rejected_unknown_product": "Produk tidak dikenal server.",
    "rejected_unknown_sale": "Penjualan yang dirujuk tidak dikenal di toko ini.",
    "rejected_unknown_sale_line": "Baris penjualan yang dirujuk tidak ada.",
    "rejected_unknown_shift": "Shift yang dirujuk tidak dikenal.",
    "web_date_invalid": "Tanggal {value} tidak dikenali: tulis dd/mm/yyyy, mis. 31/12/2025.",
    "email_not_configured": (
        "Server belum diatur untuk mengirim e-mail; kirim lewat aplikasi e-mail perangkat."
    ),
    "email_unavailable": (
        "E-mail tidak terkirim: server e-mail tidak bisa dihubungi ({reason}). Coba lagi nanti."
    ),
    "ereceipt_not_found": "Struk itu bukan milik kasir ini.",
}
