"""`charter policy …`: check, publish, diff, render, promises, list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from charter.cli.shell import CLI_ACTOR, console, errors, fail, unit_of_work
from charter.core.errors import CharterError
from charter.core.i18n import Lang
from charter.operations.changes import schedule_change
from charter.policy.check import check_file
from charter.policy.coverage import coverage
from charter.policy.diff import diff_policies
from charter.policy.loader import PolicyFileError, load_policy_file
from charter.policy.render import render_html, render_markdown
from charter.policy.schema import PolicyVersion
from charter.policy.services import PolicyStore

app = typer.Typer(help="The privacy policy as code.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="a policy YAML file")]


def _load(path: Path) -> PolicyVersion:
    try:
        return load_policy_file(path).policy
    except PolicyFileError as exc:
        for problem in exc.problems:
            errors.print(str(problem), highlight=False)
        raise typer.Exit(1) from exc


@app.command()
def check(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Validate policy files: schema and cross-checks, each problem with its line and how to fix it.

    Example: `charter policy check examples/lubpur/policy.yaml`
    """
    failed = False
    for path in files:
        problems = check_file(path)
        for problem in problems:
            errors.print(str(problem), highlight=False)
        if problems:
            failed = True
            errors.print(f"[red]{path}: {len(problems)} problem(s)[/]")
        else:
            console.print(f"[green]{path}: ok[/]")
    if failed:
        raise typer.Exit(1)


@app.command()
def publish(file: FileArg, controller: Annotated[str, typer.Option(help="the controller id")]) -> None:
    """Publish a policy version: immutable, content-hashed; the same content twice is a no-op.

    Example: `charter policy publish examples/lubpur/policy.yaml --controller lubpur`
    """
    text = file.read_text(encoding="utf-8")
    with unit_of_work() as session:
        published = PolicyStore(session).publish(controller, text, source=str(file), actor=CLI_ACTOR)
        record = published.record
        verb = "published" if published.created else "already published (no change)"
        console.print(f"{controller} {record.version} {verb}: {record.content_hash}, effective {record.effective}")
        change = schedule_change(session, controller, record, actor=CLI_ACTOR) if published.created else None
        if change is not None:
            console.print(f"a material change: everyone is told before {change.effective} (policy change {change.id})")


@app.command("list")
def list_versions(controller: Annotated[str, typer.Option(help="the controller id")]) -> None:
    """List a controller's published versions."""
    with unit_of_work() as session:
        table = Table("version", "effective", "content hash", "published")
        for r in PolicyStore(session).list(controller):
            table.add_row(r.version, r.effective.isoformat(), r.content_hash[:23] + "…", r.published_at.isoformat())
        console.print(table)


@app.command()
def diff(old: FileArg, new: FileArg,
         lang: Annotated[str, typer.Option(help="zh or en")] = "en") -> None:
    """Every change between two versions, each classed *needs fresh consent* or *notice only*, with its rule.

    Example: `charter policy diff v1.yaml v2.yaml`
    """
    language = _lang(lang)
    result = diff_policies(_load(old), _load(new))
    for change in result.changes:
        fresh = change.materiality.value == "needs_fresh_consent"
        label = "[bold red]needs fresh consent[/]" if fresh else "[green]notice only[/]"
        purposes = f" (purposes: {', '.join(change.purposes)})" if change.purposes else ""
        console.print(f"{label}  {escape(change.path)}: {escape(change.summary.get(language))}{escape(purposes)}",
                      highlight=False, soft_wrap=True)
        console.print(f"    rule: {escape(change.rule)}", highlight=False, soft_wrap=True)
    verdict = "needs fresh consent" if result.needs_fresh_consent else "notice only"
    console.print(f"{len(result.changes)} change(s); overall: [bold]{verdict}[/]")


@app.command()
def render(file: FileArg, lang: Annotated[str, typer.Option(help="zh, zh-TW or en")] = "zh",
           fmt: Annotated[str, typer.Option("--format", help="html or markdown")] = "html",
           out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None) -> None:
    """Render the published text from the policy's clauses.

    Example: `charter policy render examples/lubpur/policy.yaml --lang en --format markdown`
    """
    language, policy = _lang(lang), _load(file)
    if fmt not in ("html", "markdown"):
        raise fail(CharterError(f"unknown format {fmt!r}", fix="Use --format html or --format markdown."), 2)
    text = render_html(policy, language) if fmt == "html" else render_markdown(policy, language)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        typer.echo(text)


@app.command()
def promises(file: FileArg) -> None:
    """Each promise id, the clause that makes it, and what in Charter enforces it.

    Example: `charter policy promises examples/landups/policy.yaml`
    """
    rows = coverage(_load(file))
    table = Table("promise", "clauses", "status", "enforced by")
    for row in rows:
        table.add_row(row.id, ", ".join(row.clauses) or "[red](not placed)[/]", row.status.value, row.by)
    console.print(table)
    console.print(f"{len(rows)} promises")


def _lang(value: str) -> Lang:
    try:
        return Lang.parse(value)
    except ValueError as exc:
        raise fail(CharterError(str(exc)), 2) from exc
