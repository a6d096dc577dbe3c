"""The gateway half: tenants whose points live at an upstream vendor. Declarations (declaration.py), one
port per tenant (ports.py), what each request exchanged with its upstream (exchanges.py), statistics,
record mode and the settler. Names no vendor: app.py hands it the dialects."""
