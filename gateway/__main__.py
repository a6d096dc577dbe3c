"""`python -m gateway` is the `loyalty-gateway` command."""
from .cli import main

main()
