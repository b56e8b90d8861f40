"""Tests of pos_client.sync."""
