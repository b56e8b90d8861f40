"""Flags: what a till claimed that the server could not verify, for a manager to resolve."""
