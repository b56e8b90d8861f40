"""Background sync: the httpx client for the sync protocol and the worker thread."""
