"""diming's check next to the PostGIS query a GIS engineer would write for the same rule family.

    pip install 'psycopg[binary]'          # only this benchmark needs it
    python benchmarks/postgis_side_by_side.py national.gpkg --dsn postgresql://user:pw@127.0.0.1/db

The project's areas, lines, markers and roads are loaded into the database (tables ``bench_*``,
EPSG:4490, GiST indexes, ANALYZE; ``--keep`` re-uses a previous load). Then each rule family is
timed on both sides: diming's ``run_check`` with just that family, in a fresh Python process (the
same way ``run_check.py`` measures, imports included; the call's own time is printed next to it,
the like-for-like of the SQL's execution time, the libraries loaded before it), and the SQL below
in PostgreSQL, each side once untimed first so that both read from a warm cache. Both sides
count what they found, so a gap in the comparison shows. Without ``--dsn`` (or
``$DIMING_POSTGIS_DSN``) the benchmark says so and stops.

The SQL is the straightforward one, measured in metres the way a PostGIS user measures in a
geographic CRS (``::geography``): exact-name duplicates per county by GROUP BY; overlapping areas
of one level by a self-join on the GiST index with ST_Relate(…, '2********'); gaps as the parent's
area less the union of its children; markers farther than the tolerance from their own line by
ST_DWithin on geography. diming does more in each (normalised names, 新/大 and region prefixes;
enclaves; Gauss-Krüger distances), which the comparison leaves in its favour of PostGIS.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from run_check import measure  # noqa: E402  (the same fresh-process timing as the check benchmark)

LOADS = {
    "bench_areas": ("admin_areas", ("code", "name", "level", "parent_code"), "MultiPolygon"),
    "bench_lines": ("boundary_lines", ("line_id", "left_code", "right_code"), "MultiLineString"),
    "bench_markers": ("boundary_markers", ("marker_id", "line_id"), "Point"),
    "bench_roads": ("roads", ("road_id", "name", "district", "status"), None),
}

SQL = {
    "name.duplicate": """
        SELECT count(*) FROM (
          SELECT left(district, 6), name FROM bench_roads WHERE status = 'in_use'
          GROUP BY 1, 2 HAVING count(*) > 1) d""",
    "area.overlap": """
        SELECT count(*) FROM bench_areas a JOIN bench_areas b
          ON a.level = b.level AND a.code < b.code AND a.geom && b.geom
        WHERE ST_Relate(a.geom, b.geom, '2********')
          AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > %(overlap)s""",
    "area.gap": """
        SELECT count(*) FROM (
          SELECT (ST_Dump(ST_Difference(p.geom, ST_Union(c.geom)))).geom AS hole
          FROM bench_areas c JOIN bench_areas p ON p.code = c.parent_code
          GROUP BY p.code, p.geom) h
        WHERE ST_Area(hole::geography) > %(gap)s""",
    "marker.off-line": """
        SELECT count(*) FROM bench_markers m JOIN bench_lines l USING (line_id)
        WHERE NOT ST_DWithin(m.geom::geography, l.geom::geography, %(marker)s)""",
}

# what diming runs for each row of the table: a family, or one rule of it where the family has others
DIMING = {
    "name.duplicate": ["name.duplicate"],
    "area.overlap": ["area.overlap"],
    "area.gap": ["area.gap"],
    "marker.off-line": ["marker.off-line"],
}

# the count found and the seconds of the call itself: the like-for-like of the SQL's execution time,
# so the libraries the call imports on first use (numpy, pandas, shapely, geopandas: half a second)
# are loaded before the clock starts, as a database server has its own loaded
CHECK = """
import sys, json, time
import geopandas, numpy, pandas, shapely
from diming.check import run_check
started = time.perf_counter()
found = run_check(sys.argv[1], sys.argv[2].split(","))
seconds = time.perf_counter() - started
with open(sys.argv[3], "w") as out:
    json.dump([len(found), seconds], out)
"""


def load(con, path: str) -> None:
    import shapely

    from diming.layers.store import read_layer

    for table, (layer, columns, geometry) in LOADS.items():
        frame = read_layer(path, layer, columns=columns, geometry=geometry is not None)
        con.execute(f"DROP TABLE IF EXISTS {table}")
        geom_column = f", geom geometry({geometry}, 4490)" if geometry else ""
        con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in columns)}{geom_column})")
        names = list(columns) + (["geom"] if geometry else [])
        values = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in columns]
        if geometry:
            values.append(shapely.to_wkb(frame.geometry.values, hex=True).tolist())
        with con.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in zip(*values):
                copy.write_row(row)
        if geometry:
            con.execute(f"CREATE INDEX ON {table} USING gist (geom)")
        con.execute(f"ANALYZE {table}")
        con.commit()
        print(f"loaded {table}: {len(frame):,} rows", flush=True)
    con.execute("CREATE INDEX ON bench_lines (line_id)")
    con.execute("CREATE INDEX ON bench_areas (code)")
    con.commit()


def postgis_seconds(con, sql: str, params: dict) -> tuple[float, int]:
    started = time.perf_counter()
    count = con.execute(sql, params).fetchone()[0]
    return time.perf_counter() - started, count


def diming_seconds(path: str, rules: list[str], tmp: str) -> tuple[float, float, int]:
    """Seconds of the whole process and of the call alone, and the count found."""
    import json

    report = os.path.join(tmp, "count.json")
    seconds, _ = measure(CHECK, path, ",".join(rules), report)
    with open(report) as f:
        count, in_call = json.load(f)
    return seconds, in_call, count


def main(argv=None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--dsn", default=os.environ.get("DIMING_POSTGIS_DSN"))
    parser.add_argument("--keep", action="store_true", help="re-use the tables of a previous load")
    args = parser.parse_args(argv)
    if not args.dsn:
        print("no PostgreSQL/PostGIS server given (--dsn or $DIMING_POSTGIS_DSN): benchmark skipped")
        return 0
    import psycopg

    from diming.layers.settings import get_settings

    settings = get_settings(args.path)
    params = {"overlap": settings["area_overlap_tolerance_m2"], "gap": settings["area_gap_tolerance_m2"],
              "marker": settings["marker_tolerance_m"]}
    with psycopg.connect(args.dsn) as con:
        print(con.execute("SELECT postgis_full_version()").fetchone()[0].split(" PROJ")[0], flush=True)
        if not args.keep:
            started = time.perf_counter()
            load(con, args.path)
            print(f"load: {time.perf_counter() - started:.1f} s", flush=True)
        print(f"{'rule family':<18}{'diming':>10}{'in call':>10}{'found':>8}{'PostGIS':>10}{'found':>8}{'ratio':>8}",
              flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            for family, sql in SQL.items():
                # each side once untimed first, so that both read from a warm cache
                diming_seconds(args.path, DIMING[family], tmp)
                ours, in_call, ours_n = diming_seconds(args.path, DIMING[family], tmp)
                postgis_seconds(con, sql, params)
                theirs, theirs_n = postgis_seconds(con, sql, params)
                print(f"{family:<18}{ours:>9.1f}s{in_call:>9.2f}s{ours_n:>8,}{theirs:>9.2f}s{theirs_n:>8,}"
                      f"{ours / theirs:>7.2f}×", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
