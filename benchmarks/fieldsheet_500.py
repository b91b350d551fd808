"""Benchmark: field sheets and results import for one boundary line with 500 markers.

Run by hand: ``python benchmarks/fieldsheet_500.py [FOLDER]``. Builds a synthetic project (two
counties, a 200 km winding line, a marker every 400 m) and prints the wall time of each format,
of bringing a fully filled XLSX back, and of the round report.
"""
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon

from diming.boundaries.fieldsheet import FORMATS, write_fieldsheet
from diming.boundaries.inspection import import_results, new_round
from diming.boundaries.report import write_report
from diming.layers.crs import from_lonlat
from diming.layers.store import init_project, transaction

MARKERS = 500
STEP = 400.0  # metres between markers
GK = 4549  # CGCS2000 3° GK zone 40, central meridian 120°E


def build(folder: Path) -> Path:
    to_lonlat = Transformer.from_crs(GK, 4490, always_xy=True)
    length = MARKERS * STEP + 400.0
    north0 = 3_900_000.0
    coords = [(500_000.0 + 3000.0 * math.sin(n / 7000.0) + 800.0 * math.sin(n / 1100.0), north0 + n)
              for n in range(0, int(length) + 1, 250)]
    line = LineString(coords)
    west = Polygon([(460_000.0, north0), *coords, (460_000.0, north0 + length)][::-1]).buffer(0)
    east = Polygon([(540_000.0, north0), (540_000.0, north0 + length), *coords[::-1]]).buffer(0)

    def geo(g):
        return shapely.transform(g, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))

    project = init_project(folder / "bench.gpkg", overwrite=True)
    markers = []
    for seq in range(1, MARKERS + 1):
        p = geo(line.interpolate(200.0 + (seq - 1) * STEP))
        x, y = from_lonlat(p.x, p.y, 4528)
        markers.append({"marker_id": f"9201{seq:03d}Q", "line_id": "9201",
                        "marker_type": "单立", "material": "花岗岩", "x": round(x, 3), "y": round(y, 3),
                        "plane_crs": 4528, "location": f"甲县与乙县交界处，第 {seq} 号界桩，距村道约 {seq % 90 + 20} 米",
                        "condition": "完好", "geometry": Point(p.x, p.y)})
    with transaction(project, by="bench") as tx:
        tx.insert("admin_areas", [
            {"code": "379801", "name": "甲县", "level": "county", "geometry": MultiPolygon([geo(west)])},
            {"code": "379802", "name": "乙县", "level": "county", "geometry": MultiPolygon([geo(east)])}])
        tx.insert("boundary_lines", [{"line_id": "9201", "name": "甲县—乙县界线", "left_code": "379801",
                                      "right_code": "379802", "geometry": MultiLineString([geo(line)])}])
        tx.insert("boundary_markers", markers)
    return project


def timed(label, fn):
    """Run ``fn``, printing its wall time and its CPU time: on a shared machine the CPU time is the
    steadier figure."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    print(f"{label:<34} {time.perf_counter() - start:6.2f} s   (CPU {time.process_time() - cpu:5.2f} s)")
    return result


def main():
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="diming-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    project = timed(f"build project ({MARKERS} markers)", lambda: build(folder))
    rnd = new_round(project, 2024, "第七轮2024年度", lines=["9201"])["round_id"]
    for fmt in FORMATS:
        path = timed(f"field sheet .{fmt}", lambda: write_fieldsheet(project, rnd, "9201", fmt, folder / f"9201.{fmt}"))
        if fmt == "pdf":
            pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
            print("  " + next((x for x in pages.splitlines() if x.startswith("Pages")), "Pages: ?"),
                  f"{path.stat().st_size / 1024:.0f} KiB")
    from openpyxl import load_workbook

    book = load_workbook(folder / "9201.xlsx")
    ws = book.active
    for row in range(5, 5 + MARKERS):
        ws.cell(row, 12, "2024-06-01")
        ws.cell(row, 13, "完好")
    book.save(folder / "filled.xlsx")
    timed(f"import filled XLSX ({MARKERS} rows)", lambda: import_results(project, rnd, folder / "filled.xlsx"))
    timed("round report .pdf", lambda: write_report(project, rnd, folder / "report.pdf"))
    print(f"files in {folder}")


if __name__ == "__main__":
    main()
