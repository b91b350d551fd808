"""What the audit triggers cost a program writing through GDAL (QGIS pasting a layer, ogr2ogr -append).

Appends N roads with pyogrio (GDAL's GeoPackage driver) to a new project, once with the audit
triggers and once with them dropped, and prints both times and the audit rows written.

    python benchmarks/audit_triggers.py [--roads 20000]
"""
from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path


def append(path: Path, frame) -> float:
    import pyogrio

    start = time.perf_counter()
    pyogrio.write_dataframe(frame, path, layer="roads", append=True)
    return time.perf_counter() - start


def main() -> None:
    import geopandas as gpd
    import shapely

    from diming.layers.store import init_project

    parser = argparse.ArgumentParser()
    parser.add_argument("--roads", type=int, default=20_000)
    n = parser.parse_args().roads
    frame = gpd.GeoDataFrame(
        {"road_id": [f"R{i:07d}" for i in range(n)], "name": [f"路{i}" for i in range(n)],
         "status": ["in_use"] * n},
        geometry=[shapely.MultiLineString([[(120 + i * 1e-5, 36), (120.001 + i * 1e-5, 36.001)]]) for i in range(n)],
        crs="EPSG:4490")
    with tempfile.TemporaryDirectory() as folder:
        audited = init_project(Path(folder) / "audited.gpkg")
        bare = init_project(Path(folder) / "bare.gpkg")
        con = sqlite3.connect(bare)
        with con:
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'diming_audit_%'").fetchall():
                con.execute(f'DROP TRIGGER "{name}"')
        con.close()
        with_triggers, without = append(audited, frame), append(bare, frame)
        rows = sqlite3.connect(audited).execute("SELECT count(*) FROM audit_log WHERE by = 'GDAL'").fetchone()[0]
    print(f"{n} roads through GDAL: {with_triggers:.2f} s audited ({rows} audit rows), {without:.2f} s without "
          f"triggers, {(with_triggers - without) / n * 1e6:.0f} µs a feature")


if __name__ == "__main__":
    main()
