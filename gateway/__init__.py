"""loyalty-gateway: a sandbox loyalty-points server with three vendor dialects over one ledger."""

# The one place the version is written: pyproject.toml reads it (tool.setuptools.dynamic), so the installed
# metadata, `--version`, the upstream clients' User-Agent and the metrics' build_info all say the same.
__version__ = "0.1.0"
