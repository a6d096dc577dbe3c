"""The rows of issue 12's table, one module per family; each exposes `run(ctx, wanted) -> list[Measure]`
(`wanted`: which of its rows --only asked for)."""
