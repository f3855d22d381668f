"""`python -m landups serve | seed | sweep-files | deliver`."""

from __future__ import annotations

import argparse
import sys

from landups.cli import deliver, seed, serve, sweep_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m landups", description="The Landups reference platform.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the web application")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8200)
    commands.add_parser("seed", help="create the schema and demo data (staff, a landups.com account, two users)")
    commands.add_parser("sweep-files", help="delete sealed ID photo files that no database row refers to")
    commands.add_parser("deliver", help="send queued reports to Charter (nothing happens until it is wired)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.host, args.port)
    if args.command == "seed":
        return seed()
    if args.command == "sweep-files":
        return sweep_files()
    return deliver()


if __name__ == "__main__":
    sys.exit(main())
