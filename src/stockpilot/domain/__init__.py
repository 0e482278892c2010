"""Value types and ledger rules: pure, no I/O."""
