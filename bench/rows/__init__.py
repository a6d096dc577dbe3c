"""The rows of issue 12's table, one module per family; each exposes `run(ctx) -> list[Measure]`."""
