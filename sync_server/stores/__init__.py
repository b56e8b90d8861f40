"""Stores: who may see which store, and the store's wire shape."""
