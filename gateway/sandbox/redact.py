"""The sandbox's secret masking, which now lives in gateway/redact.py (verify's reports use it too and must
not import the sandbox); these names stay importable from here."""
from __future__ import annotations

from ..redact import (MASK, SECRET_KEYS, RedactQueries, access_logger, mask, redact_body, redact_line,
                      redact_query)

__all__ = ["MASK", "SECRET_KEYS", "RedactQueries", "access_logger", "mask", "redact_body", "redact_line",
           "redact_query"]
