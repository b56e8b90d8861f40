"""Tables of per-outlet prices and stock transfers between outlets."""

from __future__ import annotations
