"""The Type II evidence trail: write-once store, hash-chained ledger, auditor's pack."""
