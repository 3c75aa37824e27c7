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

from collections.abc import Iterable
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


def verify(
    cursor: duckdb.DuckDBPyConnection, before: Snapshot, asset: str, after: Snapshot | None = None
) -> Snapshot:
    """AssetFailure naming every object `asset`'s function changed besides its own; else the
    catalog as it stands now (`after`, when the caller has just taken it)."""
    after = after or snapshot(cursor)
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


_OWN_VIEW = """
SELECT 'view', schema_name, view_name, view_name, view_oid, NULL FROM duckdb_views()
    WHERE database_name = current_database() AND NOT internal AND schema_name = 'main'
    AND lower(view_name) = $own
"""
_OWN_TABLE = """
SELECT 'table', schema_name, table_name, table_name, table_oid, sql FROM duckdb_tables()
    WHERE database_name = current_database() AND schema_name = 'main' AND lower(table_name) = $own
UNION ALL SELECT 'index', schema_name, index_name, table_name, index_oid, sql FROM duckdb_indexes()
    WHERE database_name = current_database() AND schema_name = 'main' AND lower(table_name) = $own
"""
SCRATCH = "__assetboard_"
Objects = dict[Key, tuple[str | None, int, str | None]]


def own_objects_sql(kind: str) -> str:
    """A scalar subquery (parameter $own, lower case): what that asset owns right now, its
    table and indexes or its view. One kind of object is read, a fraction of a snapshot."""
    rows = _OWN_VIEW if kind == "view" else _OWN_TABLE
    return (
        "(SELECT list([k, s, n, o, CAST(oid AS VARCHAR), q])"
        f" FROM ({rows}) AS own(k, s, n, o, oid, q))"
    )


def objects_from(rows: list[list[str | None]] | None) -> Objects:
    """`own_objects_sql`'s list, keyed as a snapshot keys it."""
    return {
        (str(kind), str(schema).lower(), str(name).lower()): (
            owner and owner.lower(),
            int(str(oid)),
            sql,
        )
        for kind, schema, name, owner, oid, sql in rows or []
    }


def expected(before: Snapshot, owned: dict[str, Objects]) -> Snapshot:
    """The catalog as it must be now, within a batch: `before`, with the objects of the assets
    built since (`owned`) as their builds left them."""
    members = {name.lower() for name in owned}
    kept = {
        key: details
        for key, details in before.objects.items()
        if owner(key, details) not in members
    }
    for objects in owned.values():
        kept.update(objects)
    return Snapshot(kept, before.transaction)


def verify_batch(
    cursor: duckdb.DuckDBPyConnection,
    before: Snapshot,
    members: Iterable[str],
    owned: dict[str, Objects] | None,
) -> Snapshot:
    """AssetFailure unless, since `before`, nothing changed but the objects of the batch's
    assets (`members`), and (when `owned` was kept, right after each build) each asset's
    objects are still what its build left: no asset of the batch touched another's. The message
    names no culprit: the engine then builds the batch one asset at a time, where `verify` does.
    """
    after = snapshot(cursor)
    if after.transaction != before.transaction:
        raise AssetFailure("an asset of the batch ended the engine's transaction")
    names = {name.lower() for name in members}
    now: dict[str, Objects] = {}
    for key in before.objects.keys() | after.objects.keys():
        old, new = before.objects.get(key), after.objects.get(key)
        belongs = owner(key, old or new)
        if belongs in names:
            if new is not None:
                now.setdefault(belongs, {})[key] = new
        elif old != new:
            raise AssetFailure(f"an asset of the batch changed {key[0]} {key[1]}.{key[2]}")
    for name, objects in (owned or {}).items():
        if now.get(name.lower(), {}) != objects:
            raise AssetFailure(f"'{name}' was changed after its own build, within the batch")
    return after


def owner(key: Key, details: tuple[str | None, int, str | None] | None) -> str | None:
    """The asset (lower case) a catalog object would belong to: its table or view, that
    object's scratch view, an index on its table; None for anything else."""
    kind, schema, name = key
    if schema != "main":
        return None
    if kind in ("table", "view"):
        return name.removeprefix(SCRATCH)
    if kind == "index" and details is not None:
        return details[0]
    return None


def _is_own(key: Key, details: tuple[str | None, int, str | None] | None, own: str) -> bool:
    return owner(key, details) == own
