"""Tests of pos_client.scanner."""
