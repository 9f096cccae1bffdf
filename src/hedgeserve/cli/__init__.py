"""The `hedge` command line. Each subcommand lives in its own module; `app.py` wires them."""
