"""Barcode input: camera frames to codes, and the keyboard-wedge buffer."""
