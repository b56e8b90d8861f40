"""Suppliers, purchase orders, receiving, stock requests and moving-average cost."""
