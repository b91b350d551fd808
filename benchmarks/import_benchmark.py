"""Import time and peak memory against file size: CSV of boundary markers from 10 MB to 200 MB, and XLSX.

    python benchmarks/import_benchmark.py [--sizes 10,50,100,200] [--xlsx-sizes 10,30] [--bomb] [--dir DIR]

For each size it writes a file of synthetic markers (``--x lon --y lat``; ~85 bytes a CSV row, so
200 MB is 2.36 million markers), then, each in a fresh process, reads it with pyogrio (GDAL's CSV
driver; openpyxl's read-only mode for XLSX) as the baseline, and runs ``diming import`` into a new
project. Wall time, CPU time (which other work on a shared machine disturbs less; the import's
waits for the disk as it writes the project are not in it) and peak memory (max RSS) of each are
printed as a Markdown table. ``--bomb`` also writes a 1 MB XLSX whose sheet unpacks to 1.1 GB and
times its refusal.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["marker_id", "line_id", "marker_type", "material", "lon", "lat", "condition", "installed_on", "location"]
MATERIALS = ("花岗岩", "混凝土", "不锈钢")


def _row(i: int) -> list:
    line = 1000 + i // 1000
    return [f"{line}{i % 1000:03d}Q", str(line), "单立", MATERIALS[i % 3], f"{100 + (i % 20000) * 1e-3:.7f}",
            f"{25 + (i // 20000) * 1e-3:.7f}", "完好", f"20{10 + i % 10}-0{1 + i % 9}-1{i % 9}", f"山脊{i % 97}号"]


def write_csv(path: Path, megabytes: float) -> int:
    """Markers until the file reaches ``megabytes``; returns the row count."""
    target, n = megabytes * 1_000_000, 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        while out.tell() < target:
            writer.writerows(_row(i) for i in range(n, n + 10_000))
            n += 10_000
    return n


def write_bomb(path: Path, unpacked_mb: int = 1100) -> None:
    """A small XLSX whose sheet unpacks to ``unpacked_mb``: a valid sheet padded with whitespace."""
    import zipfile

    import openpyxl

    plain = path.with_name("plain.xlsx")
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.save(plain)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if not info.filename.startswith("xl/worksheets/"):
                zout.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>")
            with zout.open(info.filename, "w", force_zip64=True) as part:
                part.write(head + b"<sheetData>")
                block = b" " * 1_000_000
                for _ in range(unpacked_mb):
                    part.write(block)
                part.write(tail)
    plain.unlink()


def refusal(path: Path, project: Path) -> tuple[float, str]:
    """Seconds until ``diming import`` refuses ``path``, and its message."""
    from diming.layers.store import init_project

    project.unlink(missing_ok=True)
    init_project(project)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "diming", "--project", str(project), "import",
                             "boundary_markers", str(path), "--x", "lon", "--y", "lat"], capture_output=True, text=True)
    return time.perf_counter() - start, result.stderr.strip()


def write_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append(_row(i))
    book.save(path)


# Each measurement runs in its own process, so that the peak memory is that step's alone.
_MEASURE = """
import json, resource, sys, time
step, path, project = sys.argv[1:4]
import pyogrio, openpyxl, shapely, pyproj, geopandas  # libraries loaded before the clock starts
from diming.layers.imports import import_layer
from diming.layers.store import init_project
start, cpu = time.perf_counter(), time.process_time()
if step == "pyogrio":
    frame = pyogrio.read_dataframe(path, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat")
    rows = len(frame)
elif step == "openpyxl":
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
else:
    init_project(project)
    start, cpu = time.perf_counter(), time.process_time()
    rows = import_layer(project, "boundary_markers", path, x="lon", y="lat").inserted
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "cpu": time.process_time() - cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": rows}))
"""


def measure(step: str, path: Path, project: Path) -> dict:
    project.unlink(missing_ok=True)
    out = subprocess.run([sys.executable, "-c", _MEASURE, step, str(path), str(project)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,100,200", help="CSV sizes in MB")
    parser.add_argument("--xlsx-sizes", default="10,30", help="XLSX sizes in MB (roughly)")
    parser.add_argument("--bomb", action="store_true", help="also time the refusal of an XLSX unpacking to 1.1 GB")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files (default: a temp dir)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="diming-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    project = work / "bench.gpkg"
    print("| file | rows | size | read (baseline) | read peak | diming import | import peak | ratio | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mb in [float(s) for s in args.sizes.split(",") if s]:
        path = work / f"markers_{mb:g}mb.csv"
        rows = write_csv(path, mb)
        _report(path, rows, measure("pyogrio", path, project), measure("import", path, project), "pyogrio")
    for mb in [float(s) for s in args.xlsx_sizes.split(",") if s]:
        path = work / f"markers_{mb:g}mb.xlsx"
        rows = int(mb * 1_000_000 / 38)  # ~38 bytes of compressed XLSX a row
        write_xlsx(path, rows)
        _report(path, rows, measure("openpyxl", path, project), measure("import", path, project), "openpyxl")
    if args.bomb:
        path = work / "bomb.xlsx"
        write_bomb(path)
        seconds, message = refusal(path, project)
        print(f"\n{path.stat().st_size / 1e6:.1f} MB XLSX unpacking to 1.1 GB refused in {seconds:.1f} s "
              f"(the command as a whole): {message}")
    project.unlink(missing_ok=True)


def _report(path, rows, base, ours, base_name):
    assert base["rows"] == ours["rows"] == rows, (base, ours, rows)
    size = path.stat().st_size / 1e6
    print(f"| {path.suffix[1:].upper()} | {rows:,} | {size:,.0f} MB | {base['seconds']:.1f} s ({base_name}; "
          f"CPU {base['cpu']:.1f} s) | {base['rss_mb']:,.0f} MB | {ours['seconds']:.1f} s (CPU {ours['cpu']:.1f} s) | "
          f"{ours['rss_mb']:,.0f} MB | {ours['seconds'] / base['seconds']:.1f}× | {ours['cpu'] / base['cpu']:.1f}× |",
          flush=True)


if __name__ == "__main__":
    main()
