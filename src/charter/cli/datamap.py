"""`charter datamap …`: check, import-fides, publish, list, plan, test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from charter.cli.shell import CLI_ACTOR, console, errors, fail, unit_of_work
from charter.connectors.base import ConnectorError, StoreKind
from charter.connectors.sql import SqlConnector
from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.datamap.check import check_file
from charter.datamap.connections import open_connector
from charter.datamap.fides import import_fides
from charter.datamap.loader import DataMapFileError, load_datamap_file
from charter.datamap.plan import Planner
from charter.datamap.schema import DataMap
from charter.datamap.services import DataMapStore
from charter.datamap.specs import collection_spec, connection_spec

app = typer.Typer(help="The data map: where each piece of personal data lives.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="a data map YAML file")]


def _load(path: Path) -> DataMap:
    try:
        return load_datamap_file(path).document
    except DataMapFileError as exc:
        for problem in exc.problems:
            errors.print(str(problem), highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


@app.command()
def check(file: FileArg, policy: Annotated[Path, typer.Option(exists=True, dir_okay=False,
                                                              help="the policy YAML the map must agree with")]) -> None:
    """Validate a data map against a policy: each problem with its line, field path and how to fix it.

    Example: `charter datamap check examples/fides-sample/datamap.yaml --policy examples/fides-sample/policy.yaml`
    """
    problems = check_file(file, policy)
    for problem in problems:
        errors.print(str(problem), highlight=False, soft_wrap=True)
    if problems:
        errors.print(f"[red]{file}: {len(problems)} problem(s)[/]")
        raise typer.Exit(1)
    console.print(f"[green]{file}: ok[/]")


@app.command("import-fides")
def import_fides_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a Fides (fideslang) dataset YAML")],
    *,
    out: Annotated[Path | None, typer.Option(help="write the data map here instead of stdout")] = None,
    region: Annotated[str | None, typer.Option(help="where the datasets are stored (ISO code, e.g. CN)")] = None,
    kind: Annotated[StoreKind, typer.Option(help="the kind of store the datasets are")] = StoreKind.POSTGRESQL,
    secret: Annotated[str | None, typer.Option(help="the connection secret's name (default: from the dataset)")] = None,
    controller: Annotated[str | None, typer.Option(help="the controller id to write in the map")] = None,
    version: Annotated[str, typer.Option(help="the data map's version label")] = "1",
) -> None:
    """Turn a Fides dataset into a Charter data map; report what could not be mapped.

    Example: `charter datamap import-fides postgres_example_test_dataset.yml --region CN --out datamap.yaml`
    """
    try:
        result = import_fides(file.read_text(encoding="utf-8"), kind=kind, region=region, secret=secret,
                              controller=controller, version=version)
    except CharterError as exc:
        raise fail(exc) from exc
    text = result.to_yaml(file.name)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        count = sum(len(d["collections"]) for s in result.document["systems"] for d in s["datasets"])
        console.print(f"wrote {out}: {count} collection(s)")
    errors.print("categories the policy must declare: " + ", ".join(result.categories), highlight=False,
                 soft_wrap=True)
    for item in result.report:
        errors.print(f"[yellow]not mapped as it was:[/] {escape(str(item))}", highlight=False, soft_wrap=True)


@app.command()
def publish(file: FileArg, controller: Annotated[str, typer.Option(help="the controller id")]) -> None:
    """Publish a data map version, checked against the controller's policy in force; the same content twice is a
    no-op.

    Example: `charter datamap publish datamap.yaml --controller lubpur`
    """
    text = file.read_text(encoding="utf-8")
    with unit_of_work() as session:
        published = DataMapStore(session).publish(controller, text, source=str(file), actor=CLI_ACTOR)
        record = published.record
        verb = "published" if published.created else "already published (no change)"
        console.print(f"{controller} data map {record.version} {verb}: {record.content_hash}, checked against "
                      f"policy {record.policy_version}")


@app.command("list")
def list_versions(controller: Annotated[str, typer.Option(help="the controller id")]) -> None:
    """List a controller's published data map versions."""
    with unit_of_work() as session:
        table = Table("version", "policy", "content hash", "published")
        for r in DataMapStore(session).list(controller):
            table.add_row(r.version, r.policy_version, r.content_hash[:23] + "…", r.published_at.isoformat())
        console.print(table)


@app.command()
def plan(file: FileArg, identity: Annotated[list[str], typer.Option(
        help="an identity kind the person is known by (repeat for linked identities)")]) -> None:
    """Show the plan for a person known by these identity kinds: what is read, then what is erased, in order.

    Example: `charter datamap plan datamap.yaml --identity email --identity phone`
    """
    result = Planner(_load(file)).plan(identity)
    table = Table("pass", "step", "collection", "found by", "erasure")
    for task in (*result.access, *result.erasure):
        found = ", ".join(f"{s.field} = {s.identity or f'{s.collection}.{s.source_field}'}" for s in task.lookups)
        strategies = ", ".join(f"{f.name}: {f.erasure.strategy}" for f in task.collection.fields
                               if f.erasure is not None)
        table.add_row(task.action.value, str(task.step), task.key, found,
                      strategies if task.action.value == "erasure" else "")
    console.print(table)
    if result.unreachable:
        console.print("not reachable from these identities: " + ", ".join(result.unreachable))


@app.command()
def test(file: FileArg) -> None:
    """Connect to every dataset (secrets from CHARTER_SECRET_<NAME> or CHARTER_SECRETS_FILE) and check that each SQL
    table and column the map names exists.

    Example: `CHARTER_SECRET_SHOP_DB=postgresql://… charter datamap test datamap.yaml`
    """
    datamap, secrets, failed = _load(file), Secrets.from_environment(), False
    for _system, dataset in datamap.datasets():
        try:
            with open_connector(connection_spec(dataset), secrets) as connector:
                result = connector.test_connection()
                if result.ok and isinstance(connector, SqlConnector):
                    for collection in dataset.collections:
                        connector.verify(collection_spec(dataset, collection))
        except (CharterError, ConnectorError) as exc:
            failed = True
            errors.print(f"[red]{dataset.id}:[/] {escape(exc.message)} [yellow]fix:[/] {escape(exc.fix)}",
                         highlight=False, soft_wrap=True)
            continue
        failed |= not result.ok
        colour = "green" if result.ok else "red"
        console.print(f"[{colour}]{dataset.id}:[/] {escape(result.message)}", highlight=False)
    if failed:
        raise typer.Exit(1)
