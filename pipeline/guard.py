"""Asset code may change its own table or view and nothing else in the warehouse.

An asset function gets a real DuckDB cursor: it can run any statement. Before COMMIT the engine
compares the catalog (tables, views, schemas, sequences, indexes) and the ledger with what they
were before the function ran; a function that dropped, replaced, altered or created another
object, or touched the ledger, fails and is rolled back. Temporary objects are free. Not seen
here: row changes inside other tables, and macros and types (listing DuckDB's functions costs
13 ms a call, a third of a trivial build; neither is an asset). The history itself lives in
SQLite, out of SQL's reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.errors import AssetFailure
from pipeline.ledger import BUILDS, SCHEMA

_SNAPSHOT = f"""
SELECT 'table', schema_name, table_name, table_name, table_oid, sql FROM duckdb_tables()
    WHERE database_name = current_database()
UNION ALL SELECT 'view', schema_name, view_name, view_name, view_oid, NULL FROM duckdb_views()
    WHERE database_name = current_database() AND NOT internal
UNION ALL SELECT 'sequence', schema_name, sequence_name, NULL, sequence_oid, NULL
    FROM duckdb_sequences() WHERE database_name = current_database()
UNION ALL SELECT 'index', schema_name, index_name, table_name, index_oid, sql FROM duckdb_indexes()
    WHERE database_name = current_database()
UNION ALL SELECT 'schema', schema_name, schema_name, NULL, oid, NULL FROM duckdb_schemas()
    WHERE database_name = current_database()
UNION ALL SELECT 'ledger', '{SCHEMA}', 'builds', NULL, count(*), CAST(sum(hash(b)) AS VARCHAR)
    FROM {BUILDS} b
"""

Key = tuple[str, str, str]  # kind, schema, name (lower case: DuckDB ignores case)


@dataclass(frozen=True)
class Snapshot:
    objects: dict[Key, tuple[str | None, int, str | None]]  # -> (owner table, oid, sql)
    transaction: int

    def kind_of(self, name: str) -> str | None:
        """'table', 'view' or None: what stands under `name` in the main schema (no case)."""
        folded = name.lower()
        for kind in ("table", "view"):
            if (kind, "main", folded) in self.objects:
                return kind
        return None


def snapshot(cursor: duckdb.DuckDBPyConnection) -> Snapshot:
    """The catalog and ledger as the cursor's transaction sees them now."""
    rows = cursor.execute(_SNAPSHOT).fetchall()
    objects = {
        (kind, schema.lower(), name.lower()): (owner and owner.lower(), oid, sql)
        for kind, schema, name, owner, oid, sql in rows
    }
    # fetchall: DuckDB refuses relation work on a cursor with an unread result left over.
    ((transaction,),) = cursor.execute("SELECT txid_current()").fetchall()
    return Snapshot(objects, transaction)


def verify(cursor: duckdb.DuckDBPyConnection, before: Snapshot, asset: str) -> Snapshot:
    """AssetFailure naming every object `asset`'s function changed besides its own; else the
    catalog as it stands now."""
    after = snapshot(cursor)
    if after.transaction != before.transaction:
        raise AssetFailure(
            f"asset '{asset}' ended the engine's transaction (it ran COMMIT or ROLLBACK):"
            " its changes could not be made atomic. Remove the COMMIT/ROLLBACK from the"
            " function; the engine commits each build itself"
        )
    own = asset.lower()
    changes = []
    for key in sorted(before.objects.keys() | after.objects.keys()):
        old, new = before.objects.get(key), after.objects.get(key)
        if old == new or _is_own(key, old or new, own):
            continue
        kind, schema, name = key
        what = f"{kind} {name}" if kind in ("schema", "ledger") else f"{kind} {schema}.{name}"
        if kind == "ledger":
            changes.append(f"changed Assetboard's ledger {BUILDS}")
        elif old is None:
            changes.append(f"created {what}")
        elif new is None:
            changes.append(f"dropped {what}")
        else:
            changes.append(f"replaced or altered {what}")
    if changes:
        raise AssetFailure(
            f"asset '{asset}' {', '.join(changes)}: an asset may change only its own table or"
            " view (use CREATE TEMP TABLE for scratch work). Nothing it did was kept."
        )
    return after


def _is_own(key: Key, details: tuple[str | None, int, str | None] | None, own: str) -> bool:
    kind, schema, name = key
    if schema != "main":
        return False
    if kind in ("table", "view"):
        return name in (own, f"__assetboard_{own}")
    return kind == "index" and details is not None and details[0] == own
