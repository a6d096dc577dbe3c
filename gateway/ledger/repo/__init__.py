"""SQL of the ledger, one module per table group; portable SQL with `?` placeholders, rows turned into
models here. Only the ledger's own operation modules call in."""
