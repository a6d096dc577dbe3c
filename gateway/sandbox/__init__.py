"""The sandbox around the dialects: request journal, fault injection and rate-limit emulation (state in
state.py, applied by the middlewares in middleware.py). Knows the dialects only by name and path prefix."""
