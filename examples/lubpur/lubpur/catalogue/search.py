"""Full-text search over the catalogue, one query builder per database.

- SQLite: an FTS5 table with the **trigram** tokenizer (case-insensitive substrings, so Chinese needs no word
  segmenter). Terms of three characters or more go through MATCH and are ranked with bm25; shorter terms (most
  two-character Chinese words, "46", "EP") are matched with LIKE on the same FTS table.
- PostgreSQL: the pg_trgm GIN index on `products.search_text` serves ILIKE substring matching of every term
  (again no segmenter needed for Chinese), ranked by full-text `ts_rank` on the 'simple' configuration plus
  trigram word similarity.
Every term must match (AND). Results are product ids, best first.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

MAX_QUERY = 100


def terms(query: str) -> list[str]:
    return [t for t in query[:MAX_QUERY].split() if t][:8]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def install(conn: Connection) -> None:
    """Create the search structures (idempotent)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS product_search USING fts5(body, tokenize='trigram')"))
        return
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_products_search_trgm ON products "
                      "USING gin (search_text gin_trgm_ops)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_products_search_fts ON products "
                      "USING gin (to_tsvector('simple', search_text))"))


def reindex(conn: Connection) -> None:
    """Rebuild the SQLite FTS table from `products` (PostgreSQL indexes follow the table by themselves)."""
    if conn.dialect.name != "sqlite":
        return
    conn.execute(text("DELETE FROM product_search"))
    conn.execute(text("INSERT INTO product_search(rowid, body) SELECT id, search_text FROM products"))


def search_ids(session: Session, query: str, *, category: str | None = None, limit: int = 200) -> list[int]:
    words = terms(query)
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        ids = _sqlite(session, words, limit)
    else:
        ids = _postgres(session, words, limit)
    if category and ids:
        keep = set(session.execute(text("SELECT id FROM products WHERE category = :c"), {"c": category}).scalars())
        ids = [i for i in ids if i in keep]
    return ids


def _sqlite(session: Session, words: list[str], limit: int) -> list[int]:
    long_terms = [w for w in words if len(w) >= 3]
    params: dict[str, object] = {"limit": limit}
    where: list[str] = []
    for n, w in enumerate(w for w in words if len(w) < 3):
        where.append(f"body LIKE :l{n} ESCAPE '\\'")
        params[f"l{n}"] = _like(w)
    if long_terms:
        params["m"] = " AND ".join('"' + w.replace('"', '""') + '"' for w in long_terms)
        where.insert(0, "product_search MATCH :m")
        order = "bm25(product_search)"
    else:
        order = "rowid"
    sql = f"SELECT rowid FROM product_search WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :limit"  # noqa: S608 - placeholders only
    return list(session.execute(text(sql), params).scalars())


def _postgres(session: Session, words: list[str], limit: int) -> list[int]:
    params: dict[str, object] = {"limit": limit, "q": " ".join(words)}
    where = []
    for n, w in enumerate(words):
        where.append(f"search_text ILIKE :l{n}")
        params[f"l{n}"] = _like(w)
    sql = (
        "SELECT id FROM products WHERE " + " AND ".join(where)  # noqa: S608 - placeholders only
        + " ORDER BY ts_rank(to_tsvector('simple', search_text), plainto_tsquery('simple', :q)) DESC,"
        " word_similarity(:q, search_text) DESC, id LIMIT :limit"
    )
    return list(session.execute(text(sql), params).scalars())
