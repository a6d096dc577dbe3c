"""loyalty-gateway: a sandbox loyalty-points server with three vendor dialects over one ledger."""

__version__ = "0.1.0"
