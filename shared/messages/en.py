"""Error messages in English, by code (see :mod:`shared.messages`)."""

MESSAGES: dict[str, str] = {
    "error": "Something went wrong.",
    # -- the till's own errors, by the class that raises them ------------------------
    "domain_error": "The till cannot do that.",
    "cart_error": "The cart cannot do that.",
    "voucher_invalid": "That voucher cannot be used on this sale.",
    "share_contact_invalid": "This WhatsApp number or e-mail address cannot be used.",
    "share_phone_invalid": (
        "WhatsApp number {phone} cannot be used: write it like 0812 3456 7890."
    ),
    "share_email_invalid": (
        "E-mail address {address} is not valid: write it like name@example.com."
    ),
    "payment_error": "The payment does not pay this sale.",
    "refund_error": "That refund is not allowed.",
    "approval_required": "A supervisor must approve this discount.",
    "shift_error": "The shift cannot do that.",
    "auth_error": "Login refused.",
    "invalid_barcode": "Cannot read that barcode.",
    "product_not_found": "No such product in this till's catalog.",
    # -- cart (pos_client/domain/cart.py) ----------------------------------------------
    "line_gone": "That line is no longer in the cart.",
    "quantity_not_whole": "Quantity must be a whole number.",
    "quantity_out_of_range": "Quantity must be between {low:num} and {high:num}.",
    "discount_not_whole": "A discount must be a whole, non-negative number.",
    "discount_over_100": "A discount cannot be more than 100%.",
    "product_not_for_sale": "{name} is not for sale.",
    "line_discount_over_quantity_price": "The line discount would be more than the line's price.",
    "line_discount_over_price": "A line discount cannot be more than the line's price.",
    "order_discount_over_sale": "The order discount cannot be more than the sale.",
    "approval_required_line": (
        "A supervisor must approve the discount on {product} (above {threshold_bp:bp}%)."
    ),
    "approval_required_order": (
        "A supervisor must approve the order discount (above {threshold_bp:bp}%)."
    ),
    "cart_empty": "The cart is empty.",
    # -- tender (pos_client/domain/tender.py) ------------------------------------------
    "cash_short": "Rp{amount:num} more is needed.",
    "negative_total": "A sale cannot have a negative total.",
    "qris_payment_not_positive": "A QRIS payment must be more than Rp0.",
    "cash_negative": "Cash tendered cannot be negative.",
    "qris_over_total": "QRIS payments are more than the sale's total.",
    "still_to_pay": "Rp{amount:num} is still to be paid.",
    "no_cash_due": "No cash is due: QRIS already pays the whole sale.",
    "sale_already_paid": "This sale is already paid.",
    # -- vouchers (pos_client/domain/vouchers.py, checkout) ----------------------------
    "voucher_inactive": "Voucher {code} is no longer active.",
    "voucher_not_yet_valid": "Voucher {code} is not valid yet.",
    "voucher_expired": "Voucher {code} has expired.",
    "voucher_used_up": "Voucher {code} has been used up.",
    "voucher_min_spend": "Voucher {code} needs a minimum spend of Rp{amount:num}.",
    "voucher_unknown": "There is no voucher {code}.",
    "voucher_code_missing": "Type a voucher code first.",
    # -- refunds (pos_client/domain/refunds.py, services/refunds.py) -------------------
    "refund_line_not_in_sale": "That line is not part of this sale.",
    "refund_quantity_below_one": "Refund quantities must be at least 1.",
    "refund_only_left": "Only {left} of {name} can still be refunded.",
    "refund_only_left_line": "Only {left} of this line can still be refunded.",
    "refund_nothing_left": "Nothing is left to refund on this sale.",
    "sale_not_found": "No sale {number} on this till.",
    "shift_required_to_refund": "Open a shift before giving money back.",
    "sale_not_on_till": "That sale is not on this till.",
    "sale_voided": "That sale was voided; there is nothing to refund.",
    "refund_reason_required": "Choose or type a reason for the refund first.",
    "refund_outside_needs_qris": "Only a sale paid by QRIS can be refunded outside the till.",
    "refund_not_found": "That refund is not on this till.",
    # -- prices (shared/pricing.py) ----------------------------------------------------
    "pricing_denominator": "denominator must be positive",
    "pricing_negative_order_discount": "order discount cannot be negative",
    "pricing_quantity": "quantity must be positive",
    "pricing_negative": "prices, discounts and tax rates cannot be negative",
    "pricing_line_discount": "a line discount cannot exceed the line's price",
    "pricing_order_discount": "the order discount cannot exceed the sale's amount",
    "pricing_refund_quantity": "refund quantity must be positive",
    "pricing_refund_too_many": "cannot refund more than was sold",
    # -- login and approvals (pos_client/services/auth.py) -----------------------------
    "not_logged_in": "Please log in first.",
    "not_allowed": "{name} cannot approve this; a {role:msg:role_} must.",
    "role_cashier": "cashier",
    "role_supervisor": "supervisor",
    "role_manager": "manager",
    "role_admin": "admin",
    "user_cannot_log_in": "That user cannot log in on this till.",
    "user_has_no_pin": "{name} has no PIN yet; ask a manager to set one.",
    "user_locked": "{name} is locked after too many wrong PINs; try again in {seconds} s.",
    "wrong_pin_locked": "Wrong PIN. {name} is locked for {seconds} s.",
    "wrong_pin": "Wrong PIN; {attempts_left} tries left.",
    "user_unknown": "There is no user '{username}' on this till.",
    # -- catalog and barcodes (pos_client/services/catalog.py, shared/barcodes.py) -----
    "barcode_unreadable": "Cannot read that barcode: {problem:msg}.",
    "barcode_empty": "barcode is empty",
    "barcode_check_digit": "{kind} check digit is wrong (expected {digit})",
    "barcode_length": "barcode length does not match any supported symbology",
    "barcode_charset": "barcode may contain only printable ASCII without spaces",
    "product_not_found_barcode": "No product has barcode {code}.",
    "product_not_found_sku": "No product has SKU {sku}.",
    "product_not_found_code": "No product has barcode or SKU {code}.",
    "product_not_in_catalog": "That product is not in the catalog.",
    "product_not_found_item_code": (
        "Label {code}: no product has item code {item_code} in this till's catalog."
    ),
    "measured_weight_zero": "The label of {name} has no weight; weigh it and print it again.",
    "measured_price_zero": "The label of {name} has no price; print a correct label.",
    "quantity_unreadable": '"{text}" is not a quantity; type a number such as 2 or 0,75.',
    "quantity_too_precise": "A weight takes at most 3 decimals (grams).",
    "quantity_not_whole_unit": (
        "{name} is sold per {unit}, not by weight: its quantity must be a whole number."
    ),
    "weight_out_of_range": "The weight must be between {low} and {high}.",
    # -- scanner settings (pos_client/scanner/wedge.py) ----------------------------------
    "scanner_suffix_unknown": "Unknown scanner suffix {suffix}; choose Enter or Tab.",
    "scanner_prefix_invalid": (
        "The scanner prefix must be one visible character (such as ~), or nothing."
    ),
    "scanner_gap_out_of_range": "The gap between keys must be {low}–{high} milliseconds.",
    "scanner_length_out_of_range": "The shortest code must be {low}–{high} characters.",
    # -- checkout (pos_client/services/checkout.py) ------------------------------------
    "shift_required_to_sell": "Open a shift before selling.",
    "nothing_to_hold": "There is nothing to hold.",
    "cart_not_empty": "Finish or hold the current cart first.",
    "held_cart_gone": "That held cart is gone.",
    # -- shifts (pos_client/services/shifts.py) ----------------------------------------
    "no_open_shift": "No shift is open.",
    "float_negative": "The float cannot be negative.",
    "cash_move_zero": "The amount must be more than Rp0.",
    "denomination_count_negative": "A count of notes or coins cannot be negative.",
    "counted_cash_negative": "Counted cash cannot be negative.",
    "shift_not_closed": "That shift is not closed.",
    # -- the till's store checks again inside its transaction (pos_client/store/) ------
    "sale_already_voided": "That sale is already voided.",
    "void_after_refund": "A refunded sale cannot be voided; refund the rest instead.",
    "refund_amount_mismatch": "The refund amount does not match the sale.",
    "refund_total_mismatch": "The refund total is not the sum of its lines.",
    "shift_already_open": "A shift is already open on this till.",
    "shift_not_open": "That shift is not open.",
    "cash_move_needs_open_shift": "Cash can only move during an open shift.",
    "shift_unknown": "Unknown shift.",
    # -- the server's answers, as the till's sync client reports them ------------------
    "sync_error": "The server could not be used: {message}",
    "sync_offline": "The server cannot be reached now; the till keeps working offline.",
    "answer_damaged": (
        "The server's answer to {path} arrived damaged ({fault:msg:answer_fault_}); "
        "it will be fetched again."
    ),
    "pull_page_damaged": (
        "The page of changes after number {cursor:num} arrived damaged "
        "({fault:msg:answer_fault_}); nothing was saved, it will be fetched again."
    ),
    "answer_fault_cut": "cut short",
    "answer_fault_corrupt": "corrupted",
    "answer_fault_invalid": "not a valid answer",
    "sync_protocol_mismatch": "The till app must be updated to talk to the server.",
    "sync_auth_revoked": "This till is no longer enrolled with the server; call the manager.",
    "server_refused": "The server refused this: {message}",
    "payment_gateway_error": "The QRIS service (Tripay) has a problem. Try again, or take cash.",
    # -- QRIS at the till ---------------------------------------------------------------
    "qris_error": "QRIS cannot be used right now. Take cash.",
    "qris_unavailable": "QRIS is not available right now. Take cash.",
    "qris_offline": "QRIS needs the server, and the till is offline. Take cash instead.",
    "qris_not_enrolled": "This till is not enrolled with a server yet; QRIS is unavailable.",
    "qris_amount_not_positive": "A QRIS amount must be more than Rp0.",
    "qris_tripay_error": (
        "The QRIS service (Tripay) has a problem. Try again in a moment, or take cash."
    ),
    "tripay_timeout": "The QRIS service (Tripay) did not answer in time. Try again, or take cash.",
    "tripay_rejected": "Tripay refused this QRIS payment. Take cash, or call the manager.",
    "amount_out_of_range": (
        "QRIS takes {minimum:rupiah} to {maximum:rupiah}. Take cash, or split the payment."
    ),
    "payment_in_progress": "The QR code is still being made. Try again in a moment.",
    "qris_server_refused": "The server refused this QRIS payment: {reason:msg}",
    "qris_auth_revoked": (
        "This till is no longer enrolled with the server, so QRIS cannot be used. "
        "Take cash and call the manager."
    ),
    "qris_protocol_mismatch": "The till app must be updated to use QRIS. Take cash.",
    "qris_already_used": "This QRIS payment was already used for another sale.",
    "qris_unknown_order": "No QRIS payment {order_id}.",
    # -- manager area (pos_client/services/manager.py) ---------------------------------
    "manager_error": "The manager area cannot do that.",
    "manager_offline": (
        "The server cannot be reached, so people cannot be managed right now. "
        "Try again when the till is online."
    ),
    "manager_sign_in_needed": "Sign in to the server first with your manager password.",
    "manager_bad_username": (
        "A username is 2–64 letters, digits, dots, underscores or hyphens, with no spaces."
    ),
    "manager_name_needed": "Fill in the cashier's full name.",
    "manager_bad_pin": "A PIN is 4 to 8 digits.",
    "qris_static_button": "Static QRIS",
    "qris_static_offline": (
        "The till is offline: dynamic QRIS cannot work. The store's static QRIS can; "
        "check the customer's payment proof."
    ),
    "qris_static_amount": "The customer scans the store's QR and types {amount:rupiah}",
    "qris_static_check": "Confirm only after seeing the payment proof on the customer's phone.",
    "qris_static_confirm": "Paid",
    "qris_static_paid": "Static QRIS {amount:rupiah} confirmed by {cashier}",
    "manager_sign_in_refused": "The server refused the sign-in: {message}",
    "manager_wrong_password": "Wrong password.",
    "manager_password_locked": (
        "Too many wrong passwords. Try again in {retry_after_seconds} seconds."
    ),
    # -- server --
    "missing_token": "Sign in or send a bearer token.",
    "terminal_revoked": "This terminal's access was revoked; ask a manager to enroll it again.",
    "invalid_token": "The token is not valid.",
    "token_signed_out": "This token was signed out; sign in again.",
    "token_expired": "The token expired; sign in again.",
    "user_inactive": "This user is deactivated.",
    "user_required": "A terminal may not do this; sign in as a user.",
    "role_required": "This needs the {required} role or higher.",
    "protocol_mismatch": (
        "This till speaks sync protocol {client_protocol}, the server speaks "
        "{server_protocol}. Update the Kasir app on this till."
    ),
    "terminal_required": "Only an enrolled terminal may call this.",
    "admin_manages_role": "Only an admin may manage a user with the {role} role.",
    "username_taken": "The username {username} is taken.",
    "role_needs_store": "A {role} belongs to a store; give store_id.",
    "store_not_found": "There is no store {store_id}.",
    "user_not_found": "There is no user {user_id}.",
    "self_change": "You may not change your own role or deactivate yourself.",
    "role_needs_store_none": "A {role} belongs to a store; this user has none.",
    "terminal_just_created": (
        "Terminal {terminal_code} was just created by someone else; ask again."
    ),
    "terminal_code_other_store": "Terminal code {terminal_code} belongs to another store.",
    "terminal_enrolled": (
        "Terminal {terminal_code} is enrolled; revoke it before enrolling it again."
    ),
    "enrollment_code_invalid": "This enrollment code is not known; check it.",
    "enrollment_code_used": "This enrollment code was already used; ask a manager for a new one.",
    "enrollment_code_expired": "This enrollment code expired; ask a manager for a new one.",
    "terminal_not_found": "There is no terminal {terminal_id}.",
    "barcode_used": "That barcode is already used by another product.",
    "sku_used": "That SKU is already used by another product.",
    "category_name_used": "A category with that name already exists.",
    "tax_code_used": "A tax rate with that code already exists.",
    "voucher_code_used": "A voucher with that code already exists.",
    "conflict_stored": "The change clashes with what is stored.",
    "category_taken": "A category named {name} already exists.",
    "tax_code_taken": "A tax rate with code {tax_code} already exists.",
    "voucher_code_taken": "A voucher with code {voucher_code} already exists.",
    "category_not_found": "There is no category {category_id}.",
    "tax_rate_not_found": "There is no tax rate {tax_rate_id}.",
    "product_id_not_found": "There is no product {product_id}.",
    "voucher_not_found": "There is no voucher {voucher_id}.",
    "bad_barcode_empty": "Barcode {barcode}: barcode is empty.",
    "bad_barcode_check_digit": "Barcode {barcode}: {kind} check digit is wrong (expected {digit}).",
    "bad_barcode_length": (
        "Barcode {barcode}: barcode length does not match any supported symbology."
    ),
    "bad_barcode_charset": (
        "Barcode {barcode}: barcode may contain only printable ASCII without spaces."
    ),
    "product_value_taken": "The {field} {value} is already used by product {product_name}.",
    "sku_name_blank": "SKU and name may not be blank.",
    "field_blank": "{field} may not be blank.",
    "field_not_null": "{field} may not be null.",
    "bad_voucher_value": (
        "A percent voucher's value is in basis points (1000 = 10 %) and at most 10000."
    ),
    "naive_datetime": "{field} needs a timezone, e.g. 2025-01-01T00:00:00+07:00.",
    "bad_validity": "valid_from must be before valid_until.",
    "category_name_empty": "The category name is empty.",
    "bad_encoding": "The file is not UTF-8 text; save it as 'CSV UTF-8' and try again.",
    "empty_csv": "The file is empty; it needs a header line.",
    "bad_csv_header": (
        "Line 1 must be a header naming the columns ({columns}); sku, name and price are required."
    ),
    "csv_too_long": "The file has more than {max_lines} lines; split it.",
    "import_conflict": (
        "The catalog changed while this file was importing; nothing was imported. Import the "
        "file again."
    ),
    "malformed_json": "The request body is not valid JSON.",
    "request_invalid": "The request does not match the schema.",
    "internal_error": "Something went wrong on the server.",
    "database_unavailable": (
        "The database could not save this right now; nothing was changed. Try again."
    ),
    "batch_too_large": "A push may carry at most {limit_events:num} events.",
    "overloaded": (
        "The server is busy with other tills; nothing was changed. "
        "Try again in {retry_after:num} seconds."
    ),
    "store_required": "Name the store (store_id).",
    "stock_other_store": "You can only manage stock of your own store.",
    "unknown_store": "Store {store_id} does not exist.",
    # -- outlets: prices and transfers (sync_server/outlets) -------------------------
    "transfer_not_found": "There is no transfer {transfer_id}.",
    "transfer_conflict": (
        "Transfer {transfer_id} already exists with other content; use a new transfer id."
    ),
    "transfer_state": "That step is no longer possible: the transfer is {status} already.",
    "transfer_line_unknown": "Product(s) {product_ids} are not in this transfer.",
    "transfer_over_received": "More of product(s) {product_ids} received than was sent.",
    "transfer_loss_reason": "Some goods did not arrive: give the reason (lost, damaged...).",
    "unknown_products": "Unknown product(s): {product_ids}.",
    "zero_adjustment": "An adjustment of zero changes nothing.",
    "duplicate_product": "Count each product once per stock take.",
    "order_amount_out_of_range": (
        "QRIS takes {minimum:,} to {maximum:,} rupiah; this order is {amount:,}. Take cash, or "
        "split the payment."
    ),
    "order_conflict": "Order {order_id} already exists with other content; use a new order id.",
    "tripay_conflict": (
        "Tripay answered with a different transaction for this order. Ask a manager."
    ),
    "expiry_out_of_range": "{method} codes last {minimum} to {maximum} minutes.",
    "order_payment_in_progress": (
        "The QR for this order is still being made; try again in a moment."
    ),
    "order_not_found": "There is no payment order {order_id} for this till.",
    "bad_period": "The period ends before it starts.",
    "period_too_long": "A report covers at most {max_days} days.",
    "bad_order": "Order by revenue or quantity.",
    "unknown_rejected_event": "No rejected event {event_id}.",
    "value_out_of_range": "A value is too large for the server to store.",
    "label_too_long": (
        "Barcode {barcode} is too long to print on a label {width_mm} mm wide; use a shorter code."
    ),
    "flag_not_found": "There is no flag {flag_id}.",
    "flag_already_resolved": "Flag {flag_id} was already resolved.",
    # -- sales and shifts (sync_server/sales) ----------------------------------------
    "sale_unknown": "There is no sale {sale_id}.",
    "shift_not_found": "There is no shift {shift_id}.",
    "bad_cursor": "That page cursor is not one this server gave; start again from page one.",
    # -- the Tripay client (sync_server/payments/tripay.py) --------------------------
    "tripay_timed_out": (
        "Tripay did not answer in time, so QRIS is not available right now. "
        "Try again, or take cash."
    ),
    "tripay_unreachable": (
        "The server cannot reach Tripay, so QRIS is not available right now. "
        "Try again, or take cash."
    ),
    "tripay_server_error": (
        "Tripay has a problem (HTTP {http_status}), so QRIS is not available right now. "
        "Try again in a minute, or take cash."
    ),
    "tripay_bad_answer": "Tripay sent an answer the server cannot read. Try again, or take cash.",
    "tripay_refused": "Tripay refused the request: {tripay_message}",
    "tripay_other_order": "Tripay answered about a different order. Try again, or take cash.",
    "tripay_bad_status": "Tripay sent a status the server cannot read.",
    # -- backup, restore and till exports (sync_server/backup.py) -------------------
    "backup_backend_unsupported": "Backups of a {backend} database are not supported.",
    "backup_in_memory": "An in-memory SQLite database cannot be backed up.",
    "backup_source_missing": "There is no database file at {path}.",
    "backup_no_database": "The database URL names no database.",
    "backup_dump_missing": "mariadb-dump is not installed on this machine.",
    "backup_failed": "mariadb-dump failed (exit {status}): {why:msg}",
    "backup_incomplete": "the dump is incomplete",
    "backup_not_found": "There is no backup file at {path}.",
    "backup_manifest_missing": (
        "The backup {backup} has no manifest ({manifest}); it cannot be checked, so it is "
        "not restored."
    ),
    "backup_manifest_invalid": "The manifest {manifest} is damaged: {reason}.",
    "backup_corrupt": (
        "The backup {backup} is damaged or incomplete ({why:msg}); nothing was restored."
    ),
    "backup_why_size": "{size} bytes, the manifest says {expected_size}",
    "backup_why_sha256": "its sha256 differs from the manifest's",
    "backup_why_schema": "schema {revision}, the manifest says {expected_revision}",
    "backup_why_content": "what it holds differs from what was backed up",
    "backup_why_row_counts": "its row counts differ from the manifest's",
    "backup_why_integrity": "integrity check: {check}",
    "backup_why_no_closing_line": "the dump has no closing line",
    "backup_schema_unknown": (
        "The backup is at schema revision {revision}, which this Kasir ({version}) does not "
        "know: restore it with a newer Kasir."
    ),
    "restore_backend_unsupported": "Restoring into {backend} is not supported.",
    "backup_format_mismatch": (
        "The backup is a {format} backup; the configured database is {backend}."
    ),
    "restore_target_not_empty": (
        "The target database {where} is not empty (rows in {tables}); restore into an empty "
        "database, or pass --force to replace what it holds."
    ),
    "restore_mismatch": (
        "The restored database does not hold what the backup holds (tables {tables})."
    ),
    "restore_client_missing": "The mariadb client is not installed on this machine.",
    "restore_failed": "Loading the backup failed (exit {status}): {why}",
    "till_export_not_found": "There is no file at {path}.",
    "till_export_invalid": (
        "The till export {file} cannot be imported ({why:msg}); nothing was applied."
    ),
    "till_export_why_not_export": "it is not a till export",
    "till_export_why_cut": "its closing sha256 line is missing; it may be cut short",
    "till_export_why_sha256": "its content does not match its sha256",
    "till_export_why_malformed": "malformed: {reason}",
    "till_export_why_version": "format version {version} is not {expected_version}",
    "till_export_why_count": "{events} events, the header says {expected_events}",
    "till_export_terminal_unknown": (
        "The till export {file} names terminal {terminal_code} (id {terminal_id}, store "
        "{store_id}), which is not a terminal of this server; nothing was applied."
    ),
    "till_export_terminal_not_enrolled": (
        "Terminal {terminal_code} is not enrolled (or was revoked); its export is not imported."
    ),
    "demo_catalog_unavailable": "The demo catalog is not available ({reason}).",
    "no_store_yet": "There is no store yet.",
    "login_locked": "Too many wrong passwords. Try again in {seconds} seconds.",
    "invalid_credentials": "Wrong username or password.",
    "back_office_only": "Only managers and admins may use the back office.",
    "store_code_taken": "The store code '{store_code}' is taken.",
    "store_code_not_found": "There is no store with code '{store_code}'.",
    "other_store": "You may only see and manage your own store.",
    "store_name_empty": "The store name is empty.",
    "unknown_report": "There is no such report.",
    "no_labels": "None of the chosen products has a barcode.",
    "web_forbidden": "You may not open this page.",
    "web_terminal_refused": "A till cannot open the back office.",
    "web_csrf_mismatch": "The form token (CSRF) does not match. Reload the page and try again.",
    "web_catalog_admin_only": "Only an admin may change the catalog (products, prices, PPN).",
    "web_login_form_expired": "The sign-in form has expired. Reload the page and try again.",
    # -- a CSV catalog import's line problems (sync_server/catalog/csv_io.py) --------
    "csv_field_count": (
        "line has {fields} fields but the header has {expected} "
        "(put values containing commas in double quotes)"
    ),
    "csv_value_too_long": "{column} is longer than {max_length} characters",
    "csv_sku_missing": "sku is missing",
    "csv_sku_repeated": "sku {sku} is also on line {other_line}",
    "csv_name_missing": "name is missing",
    "csv_price_missing": "price is missing",
    "csv_price_negative": "price {price} is negative",
    "csv_price_not_whole": (
        "price {price!r} is not a whole number of rupiah "
        "(write 12500: no dots, commas, decimals or 'Rp')"
    ),
    "csv_price_too_large": "price {price} is too large",
    "csv_barcode_invalid": "barcode {barcode}: {why:msg}",
    "barcode_too_long": "barcode is too long",
    "csv_barcode_repeated": "barcode {barcode} is also on line {other_line}",
    "csv_barcode_taken": "barcode {barcode} already belongs to product {sku}",
    "csv_tax_code_unknown": "tax code {tax_code} is unknown (known: {known:msg})",
    "csv_no_tax_codes": "none defined",
    "csv_active_not_boolean": "active {active!r} is not true or false",
    "csv_threshold_not_whole": "low_stock_threshold {threshold!r} is not a whole number ≥ 0",
    # -- customers and loyalty points (sync_server/customers, pos_client customers) ----
    "customer_not_found": "Customer {customer_id} was not found.",
    "customer_phone_taken": "The number {phone} already belongs to another customer.",
    "customer_phone_invalid": (
        "The phone number {phone} is not valid: write 08…, 628… or +628… "
        "(8 to 12 digits after the 0)."
    ),
    "customer_phone_unknown": "No customer has the number {phone} yet.",
    "customer_phone_required": "Look customers up by phone number.",
    "customer_name_required": "Write the customer's name (1 to 100 characters).",
    "customer_email_invalid": "The e-mail address {email} is not valid.",
    "customer_required": "Choose a customer first.",
    "points_disabled": "Customer points are not switched on.",
    "points_over_balance": "Only {available:num} points can be redeemed.",
    "points_over_total": "The points discount may not exceed the sale's total.",
    "ui_customer_button": "Customer",
    "ui_customer_set": "Customer: {name}",
    "ui_customer_title": "Customer",
    "ui_customer_phone_hint": "Mobile number, e.g. 0812 3456 7890",
    "ui_customer_name_hint": "Name (for a new customer)",
    "ui_customer_find": "Find",
    "ui_customer_register": "Register",
    "ui_customer_remove": "Remove",
    "ui_customer_done": "Done",
    "ui_customer_found": "{name} · {phone} · {points:num} points",
    "ui_customer_not_found": "This number is not registered: type the name, then Register.",
    "ui_customer_redeem": "Redeem {points:num} points (−Rp{amount:num})",
    "ui_customer_redeem_none": "No points to redeem",
    "ui_customer_redeemed": "{points:num} points redeemed: −Rp{amount:num}",
    "qris_disabled": "QRIS is not enabled on this shop's server. Take cash.",
    "metrics_token_required": "Metrics are for Prometheus only: send the metrics bearer token.",
    "static_qris_invalid": (
        "The static QRIS payload is not valid: paste the whole text of the store's QR "
        "(starting 000201, ending in the CRC tag 63)."
    ),
    # purchasing (suppliers, purchase orders, receiving, stock requests)
    "supplier_not_found": "Supplier {supplier_id} not found.",
    "supplier_inactive": "Supplier {supplier_id} is no longer active.",
    "purchase_order_not_found": "Purchase order {order_id} not found.",
    "po_bad_transition": "This purchase order cannot do that: its status is {status}.",
    "po_product_not_ordered": "Product {product_id} is not on this purchase order.",
    "po_over_receive": (
        "Product {product_id} received beyond the order: {remaining} still to arrive."
    ),
    "receipt_conflict": (
        "Receipt {receipt_id} was recorded with other content; use a new receipt id."
    ),
    "stock_request_not_found": "Stock request {request_id} not found.",
    "request_bad_transition": "This stock request cannot do that: its status is {status}.",
    "nothing_to_order": "Nothing to order: stock is above every reorder point.",
    # why the server refused a till's transaction (back office, by rejection code)
    "rejected_already_voided": "This sale was already voided.",
    "rejected_approval_required": "It needs the approval of a supervisor or manager of this store.",
    "rejected_duplicate_no_sale": "This drawer opening is already recorded.",
    "rejected_duplicate_receipt": "Another sale already has this receipt number.",
    "rejected_duplicate_refund": "This refund is already recorded.",
    "rejected_duplicate_sale": "This sale is already recorded.",
    "rejected_duplicate_shift": "This shift is already recorded.",
    "rejected_id_conflict": "An id in this transaction is already used by another record.",
    "rejected_invalid_event_id": "The transaction id is not valid.",
    "rejected_invalid_payload": "The transaction is incomplete or not valid.",
    "rejected_payments_mismatch": "The payments do not add up to the sale's total.",
    "rejected_receipt_terminal_mismatch": "The receipt number does not belong to this terminal.",
    "rejected_refund_amount_mismatch": "The refund amount does not match the refunded lines.",
    "rejected_refund_exceeds_sale": "The refund exceeds what was sold.",
    "rejected_sale_has_refunds": "A sale with refunds cannot be voided; refund the rest instead.",
    "rejected_sale_voided": "This sale is voided.",
    "rejected_shift_closed": "This shift is closed.",
    "rejected_shift_terminal_mismatch": "This shift belongs to another terminal.",
    "rejected_time_out_of_range": "The transaction's time is outside what the server can store.",
    "rejected_totals_mismatch": "The transaction's totals do not match its lines.",
    "rejected_unknown_cashier": "The cashier is unknown or not active in this store.",
    "rejected_unknown_event_type": "The server does not know this kind of transaction.",
    "rejected_unknown_product": "The product is unknown to the server.",
    "rejected_unknown_sale": "The sale referred to is unknown in this store.",
    "rejected_unknown_sale_line": "The sale line referred to does not exist.",
    "rejected_unknown_shift": "The shift referred to is unknown.",
    "web_date_invalid": "Date {value} is not recognised: write dd/mm/yyyy, e.g. 31/12/2025.",
    "email_not_configured": (
        "The server is not set up to send e-mail; send it from the device's mail app."
    ),
    "email_unavailable": (
        "The e-mail was not sent: the mail server could not be reached ({reason}). Try again later."
    ),
    "ereceipt_not_found": "That receipt is not this till's.",
}
