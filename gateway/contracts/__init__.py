"""Contracts as data: the pinned cases (fixtures/, shipped in the wheel as gateway/contracts/pinned) replayed
against any live server by `loyalty-gateway verify` and `diff`. Knows no vendor: each dialect hands its case
loader and its documents through its descriptor."""
