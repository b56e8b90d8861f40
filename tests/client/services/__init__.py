"""Tests of pos_client.services."""
