"""Code both the till and the server import: wire schemas and pure money rules."""
