"""Filling a layer's spatial index (the GeoPackage R-tree, an SQLite ``rtree`` table) in one go.

SQLite inserts into an R-tree one entry at a time, descending the tree and splitting nodes as it
goes: about 8 µs an entry, the largest single cost of importing a big file of points. An index
that is empty when a large write finishes is instead built here bottom-up (Sort-Tile-Recursive
packing: entries sorted into tiles by x, then by y within a tile, 51 to a node) and its nodes
written straight into the R-tree's three shadow tables, in the layout SQLite's ``rtree`` module
defines (sqlite.org/src/file/ext/rtree/rtree.c: a node is a 2-byte tree depth, used in the root
only, a 2-byte cell count and the cells, each a 64-bit id and four 32-bit floats, all big-endian;
``_rowid`` maps each entry to its leaf, ``_parent`` each node to its parent). Coordinates are
rounded outward to 32-bit floats exactly as SQLite rounds them, so the entries read back as if
inserted one by one; ``rtreecheck()`` passes, and SQLite keeps the tree up itself afterwards.
An index that already holds entries, or one of another layout, is filled with ordinary inserts.
"""
from __future__ import annotations

import sqlite3

import numpy as np

from diming.layers.gpkg import insert_rows, quote

# rtree.c: RNDTOWARDS and RNDAWAY, the factors its rtreeValueDown / rtreeValueUp round with
_TOWARDS, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0
CHUNK_NODES = 4096  # nodes made and written at a time (5 MB)
CELL = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])
_SHADOW = {"_node": ["nodeno", "data"], "_rowid": ["rowid", "nodeno"], "_parent": ["nodeno", "parentnode"]}


def _down(d: np.ndarray) -> np.ndarray:
    f = d.astype(np.float32)
    above = f > d
    f[above] = (d[above] * np.where(d[above] < 0, _AWAY, _TOWARDS)).astype(np.float32)
    return f


def _up(d: np.ndarray) -> np.ndarray:
    f = d.astype(np.float32)
    below = f < d
    f[below] = (d[below] * np.where(d[below] < 0, _TOWARDS, _AWAY)).astype(np.float32)
    return f


def cells(ids, bounds) -> np.ndarray:
    """Index entries for ``ids`` with shapely ``bounds`` (minx, miny, maxx, maxy), as SQLite stores them."""
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    out = np.empty(len(bounds), dtype=CELL)
    out["id"] = ids
    out["minx"], out["miny"] = _down(bounds[:, 0]), _down(bounds[:, 1])
    out["maxx"], out["maxy"] = _up(bounds[:, 2]), _up(bounds[:, 3])
    return out


def fill(con: sqlite3.Connection, table: str, entries: np.ndarray) -> None:
    """Add ``entries`` (from :func:`cells`) to R-tree ``table``: packed when the tree is empty."""
    if not len(entries):
        return
    entries = entries.astype(CELL, copy=False)  # big-endian, as SQLite reads the nodes
    size = _packable(con, table)
    if size is None:
        con.executemany(f"INSERT OR REPLACE INTO {quote(table)} VALUES (?, ?, ?, ?, ?)",
                        zip(entries["id"].tolist(), entries["minx"].astype(float).tolist(),
                            entries["maxx"].astype(float).tolist(), entries["miny"].astype(float).tolist(),
                            entries["maxy"].astype(float).tolist()))
        return
    _pack(con, table, entries, (size - 4) // CELL.itemsize, size)


def _packable(con, table) -> int | None:
    """The node size of R-tree ``table`` when it is an empty 2-D float tree of the known layout."""
    for suffix, columns in _SHADOW.items():
        if [r[1] for r in con.execute(f"PRAGMA table_info({quote(table + suffix)})")] != columns:
            return None
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    if sql is None or "rtree(" not in sql[0].replace(" ", "").lower():  # not rtree_i32
        return None
    if [r[1] for r in con.execute(f"PRAGMA table_info({quote(table)})")] != ["id", "minx", "maxx", "miny", "maxy"]:
        return None
    if con.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table + '_rowid')})").fetchone()[0]:
        return None
    root = con.execute(f"SELECT length(data) FROM {quote(table + '_node')} WHERE nodeno = 1").fetchone()
    return None if root is None else root[0]


def _pack(con, table, entries, per_node, size) -> None:
    """Write the tree level by level, leaves first; each level in its tiles' order, a chunk of
    nodes at a time (so that a few million entries need no sorted copy of them all)."""
    node_sql = f"INSERT OR REPLACE INTO {quote(table + '_node')} (nodeno, data) VALUES (?, ?)"
    level, depth, next_no = entries, 0, 2
    while True:
        order = _tiles(level, per_node)
        count = -(-len(level) // per_node)
        root = count == 1
        up = np.empty(count, dtype=CELL)  # the next level up: one entry per node, its bounding box
        step = CHUNK_NODES * per_node
        for start in range(0, len(level), step):
            part = level[order[start:start + step]]
            nodes = -(-len(part) // per_node)
            first = start // per_node
            numbers = np.array([1]) if root else np.arange(next_no + first, next_no + first + nodes)
            # leaf entries are found by id through _rowid; every node but the root has its parent
            pairs = np.column_stack([part["id"].astype(np.int64), np.repeat(numbers, per_node)[:len(part)]])
            insert_rows(con, f"INSERT INTO {quote(table + ('_parent' if depth else '_rowid'))}", 2,
                        pairs.ravel().tolist())
            raw = _blobs(part, nodes, per_node, size)
            if root:
                raw[0, 0:2] = np.array([depth], dtype=">u2").view(np.uint8)  # the root holds the tree's depth
            con.executemany(node_sql, ((int(n), raw[i].tobytes()) for i, n in enumerate(numbers)))
            starts = np.arange(0, len(part), per_node)
            up["id"][first:first + nodes] = numbers
            for name, reduce in (("minx", np.minimum), ("miny", np.minimum),
                                 ("maxx", np.maximum), ("maxy", np.maximum)):
                up[name][first:first + nodes] = reduce.reduceat(part[name], starts)
        if root:
            return
        next_no += count
        level, depth = up, depth + 1


def _tiles(level, per_node) -> np.ndarray:
    """Sort-Tile-Recursive order: vertical slices of whole nodes by x centre, by y centre within each."""
    count = -(-len(level) // per_node)
    slices = int(np.ceil(np.sqrt(count)))
    by_x = np.argsort(level["minx"] + level["maxx"], kind="stable")  # twice the centre, in 32 bits: enough
    slice_of = np.empty(len(level), dtype=np.int32)
    slice_of[by_x] = np.arange(len(level)) // (slices * per_node)
    del by_x
    y = level["miny"] + level["maxy"]
    return np.lexsort((y, slice_of))


def _blobs(level, count, per_node, size) -> np.ndarray:
    """The ``count`` node blobs (one a row) of ``level`` cut into nodes of ``per_node`` cells."""
    raw = np.zeros((count, size), dtype=np.uint8)
    cells = level.view(np.uint8).reshape(len(level), CELL.itemsize)
    full, rest = divmod(len(level), per_node)
    width = per_node * CELL.itemsize
    raw[:full, 4:4 + width] = cells[:full * per_node].reshape(full, width)
    if rest:
        raw[full, 4:4 + rest * CELL.itemsize] = cells[full * per_node:].reshape(-1)
    filled = np.full(count, per_node, dtype=">u2")
    filled[-1] = len(level) - per_node * (count - 1)
    raw[:, 2:4] = filled.view(np.uint8).reshape(count, 2)
    return raw
