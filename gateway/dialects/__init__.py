"""The vendor dialects: each parses its wire format, makes one ledger call and renders the result."""
