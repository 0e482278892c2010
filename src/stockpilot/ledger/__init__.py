"""The stock ledger as a service: commands in, movements and positions out."""
