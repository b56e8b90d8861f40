"""The back-office pages, one module per area; each calls the features' services only."""
