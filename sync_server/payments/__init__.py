"""QRIS payments through Tripay: orders, signed callbacks, settling late orders."""
