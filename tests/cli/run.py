"""Running the CLI in-process, as the tests of each command group do."""

from __future__ import annotations

from typer.testing import CliRunner

from charter.cli.main import app

runner = CliRunner()


def charter(*args: str, stdin: str | None = None) -> tuple[int, str]:
    """`charter ARGS…` with `stdin` as its input; (exit code, everything it printed)."""
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output
