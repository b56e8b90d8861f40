"""Products, categories, tax rates and vouchers."""
