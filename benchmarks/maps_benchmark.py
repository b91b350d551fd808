"""Map scale benchmark: 20,000 markers, 5,000 roads and 1,000 areas.

Builds a synthetic project, writes the inspection map (1,000 areas, 500 boundary lines, 20,000
markers) and the proposals map (1,000 areas, 5,000 roads, 200 proposals), and reports for each the
time to write it, the HTML size, and the time headless Chromium takes from navigation until the
canvas has drawn (load event plus two animation frames, by which the clusters and labels of the
fitted view are on screen), network blocked, and the main thread's CPU time for the same (which
other work on the machine does not inflate). The machine is shared, so each page is opened
``--runs`` times in one browser and the best times are reported beside all of them.

    python benchmarks/maps_benchmark.py [--folder DIR] [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

COLUMNS, ROWS = 40, 25  # 1,000 areas
CELL = 0.02  # degrees
WEST, SOUTH = 118.0, 30.0


def build(path: Path) -> Path:
    import shapely
    from shapely.geometry import MultiLineString, MultiPolygon, Point, box

    from diming.layers.store import init_project, transaction

    rng = random.Random(6)
    areas, lines, markers, roads, proposals = [], [], [], [], []
    for r in range(ROWS):
        for c in range(COLUMNS):
            cell = shapely.segmentize(box(WEST + c * CELL, SOUTH + r * CELL, WEST + (c + 1) * CELL,
                                          SOUTH + (r + 1) * CELL), CELL / 25)  # 100 vertices
            areas.append({"code": f"3{r:02d}{c:03d}", "name": f"镇{r}-{c}", "level": "town",
                          "geometry": MultiPolygon([cell])})
    for i in range(0, len(areas), 2):  # a line between each pair of neighbouring areas
        left, right = areas[i], areas[i + 1]
        x = left["geometry"].bounds[2]
        y0, y1 = left["geometry"].bounds[1], left["geometry"].bounds[3]
        coords = [(x + 0.0005 * math.sin(k), y0 + (y1 - y0) * k / 40) for k in range(41)]
        line_id = f"{9000 + i // 2:04d}"
        lines.append({"line_id": line_id, "name": f"界线{i // 2}", "left_code": left["code"],
                      "right_code": right["code"], "geometry": MultiLineString([coords])})
        for k in range(40):
            markers.append({"marker_id": f"{line_id}{k + 1:03d}Q", "line_id": line_id, "marker_type": "单立",
                            "condition": rng.choice(["完好", "完好", "完好", "损坏", "丢失", "移位"]),
                            "x": 3300000.0 + k, "y": 500000.0 + k, "plane_crs": 4549, "location": "田埂旁",
                            "geometry": Point(coords[k])})
    for i in range(5000):
        x, y = WEST + rng.random() * COLUMNS * CELL, SOUTH + rng.random() * ROWS * CELL
        coords = [(x + 0.001 * k, y + 0.0003 * math.sin(k)) for k in range(10)]
        roads.append({"road_id": f"R{i:05d}", "name": f"路{i}", "pinyin": f"Lu {i}", "status": "in_use",
                      "geometry": MultiLineString([coords])})
        if i < 200:
            proposals.append({"proposal_id": f"P{i:04d}", "name": f"新路{i}", "status": "in_review",
                              "geometry": MultiLineString([[(x, y + 0.002), (x + 0.01, y + 0.002)]])})
    init_project(path, overwrite=True)
    with transaction(path, by="benchmark") as tx:
        for layer, records in (("admin_areas", areas), ("boundary_lines", lines), ("boundary_markers", markers),
                               ("roads", roads), ("road_proposals", proposals)):
            tx.insert(layer, records)
    return path


def main():
    from chromium import CHROMIUM, Browser, open_page

    from diming.maps.inspection import inspection_map
    from diming.maps.proposals import proposals_map

    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=5, help="times each page is opened (the best is reported)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="diming-maps-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    project = build(folder / "bench.gpkg")
    results = {}
    for kind, make in (("inspection", inspection_map), ("proposals", proposals_map)):
        started = time.perf_counter()
        result = make(project, folder / f"{kind}.html")
        results[kind] = {"write_s": round(time.perf_counter() - started, 2),
                         "size_mb": round(result["output"].stat().st_size / 1e6, 2), "counts": result["counts"]}
    if CHROMIUM:
        browser = Browser()
        try:
            for kind in results:
                times, cpu, errors = [], [], []
                for _ in range(args.runs):
                    page = open_page(browser, folder / f"{kind}.html", cpu=True)
                    times.append(round(page.load_seconds, 2))
                    cpu.append(round(page.cpu_seconds, 2))
                    errors += page.errors + page.requests
                results[kind]["render_s"] = min(times)
                results[kind]["render_runs_s"] = times
                results[kind]["render_cpu_s"] = min(cpu)
                results[kind]["errors"] = errors
        finally:
            browser.close()
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
