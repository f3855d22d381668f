"""The `charter` command line (Typer + Rich)."""
