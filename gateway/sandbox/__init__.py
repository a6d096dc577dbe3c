"""The sandbox around the dialects: request journal, fault injection and rate-limit emulation (state in
state.py, applied as steps of pipeline.py). Knows the dialects only through their descriptors."""
