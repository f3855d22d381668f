"""From a data map's entries to the plain specs a connector takes."""

from __future__ import annotations

from charter.connectors.base import CollectionSpec, ConnectionSpec, ErasureSpec, FieldSpec, Strategy
from charter.datamap.schema import Collection, DataField, Dataset, Erasure

__all__ = ["collection_key", "collection_spec", "connection_spec", "effective_erasure"]


def collection_key(dataset_id: str, collection: str) -> str:
    """How the plan names a collection: `dataset.collection`."""
    return f"{dataset_id}.{collection}"


def effective_erasure(collection: Collection, field: DataField) -> Erasure | None:
    """The field's own erasure, else the collection's default for a field that holds a category.

    A collection whose default is `delete_row` deletes the person's rows whatever its fields say; a primary key
    is otherwise left alone (an opaque key goes only with its row).
    """
    default = collection.erasure
    if default is not None and default.strategy is Strategy.DELETE_ROW:
        return field.erasure if field.erasure is not None else default
    if field.erasure is not None:
        return field.erasure
    if default is not None and field.categories and not field.primary_key:
        return default
    return None


def _erasure_spec(erasure: Erasure | None) -> ErasureSpec | None:
    if erasure is None:
        return None
    return ErasureSpec(strategy=erasure.strategy, value=erasure.value, to=erasure.to, keep_chars=erasure.keep_chars,
                       round_to=erasure.round_to, rule=erasure.rule)


def _field_spec(collection: Collection, field: DataField) -> FieldSpec:
    return FieldSpec(name=field.name, type=field.type, length=field.length, is_primary_key=field.primary_key,
                     categories=tuple(field.categories), erasure=_erasure_spec(effective_erasure(collection, field)),
                     identity=field.identity.value if field.identity else None)


def collection_spec(dataset: Dataset, collection: Collection) -> CollectionSpec:
    return CollectionSpec(
        dataset=dataset.id, name=collection.name, table=collection.table if dataset.kind.is_sql else None,
        db_schema=collection.db_schema, key=collection.key, redis_type=collection.redis_type,
        endpoint=collection.endpoint, instructions=collection.instructions or dataset.instructions,
        fields=tuple(_field_spec(collection, f) for f in collection.fields))


def connection_spec(dataset: Dataset) -> ConnectionSpec:
    connection = dataset.connection
    return ConnectionSpec(
        dataset=dataset.id, kind=dataset.kind, secret=connection.secret if connection else None,
        url=connection.url if connection else None,
        hash_key_secret=dataset.hash_key.secret if dataset.hash_key else None, instructions=dataset.instructions)
