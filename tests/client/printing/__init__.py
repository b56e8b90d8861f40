"""Tests of pos_client.printing."""
