"""Sales and shifts as the manager reads them: lists, details, cash reconciliation."""
