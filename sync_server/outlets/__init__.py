"""Per-outlet prices and stock transfers between outlets."""
