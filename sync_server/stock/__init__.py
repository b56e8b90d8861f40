"""The stock ledger: signed movements and the on-hand they add up to."""
