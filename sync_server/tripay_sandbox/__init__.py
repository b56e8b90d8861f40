"""A local Tripay sandbox (ASGI app + CLI) for the demo and the tests; never production."""

from sync_server.tripay_sandbox.app import create_sandbox_app

__all__ = ["create_sandbox_app"]
