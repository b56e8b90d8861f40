"""Tests of pos_client.store."""
