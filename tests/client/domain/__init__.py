"""Tests of pos_client.domain."""
