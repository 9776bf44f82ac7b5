"""One module per benchmark; `bench/run.py` runs every one that defines `run(ctx) -> dict`.

Each may set NAME (default: the module's name) and TIME_LIMIT (seconds; default 3600). What
`ctx` offers is in bench/harness.py, how to add one in bench/README.md.
"""
