"""Wall time and peak memory of ``diming check`` next to merely reading the same layers (the first
check after an import, which builds the name index, and a later one), of ``diming check --changed``
after one edit, of ``diming namecheck`` (the first one on a project builds its name index) and of
``diming road survey``.

    python benchmarks/run_check.py national.gpkg

The project is edited (one road renamed, one marker moved) and put back as it was.

Each measurement runs in a fresh Python process (so imports are counted alike and peak memory is
that process's own maximum resident size), with Python's byte-code cache on even where the
environment turns it off (``PYTHONDONTWRITEBYTECODE``), as an installed diming has it: else every
process would compile diming's own modules again (about 0.1 s).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

READ = """
import sys
from diming.layers.store import read_layer
for name in ("admin_areas", "boundary_lines", "boundary_markers", "roads", "road_proposals", "heritage_names",
             "road_signs", "sign_patrol_records", "place_names", "check_exceptions", "settings"):
    read_layer(sys.argv[1], name)
"""
CHECK = """
import sys
from diming.check import run_check
from diming.findings import write
write(run_check(sys.argv[1]), "json", sys.argv[2])
"""

# one edit as an officer makes it, then the incremental check; the check's own time is written
# to argv[5] (the process also loads Python, numpy, shapely and pandas)
CHANGED = """
import json, sys, time
import shapely
from diming.check import run_check
from diming.layers.store import transaction
layer, key, changes = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
if "geometry" in changes:
    changes["geometry"] = shapely.from_wkt(changes["geometry"])
with transaction(sys.argv[1], by="benchmark") as tx:
    tx.update(layer, key, changes)
started = time.perf_counter()
found = run_check(sys.argv[1], changed=True)
open(sys.argv[5], "w").write(f"{time.perf_counter() - started} {len(found)}")
"""

SURVEY = """
import sys
from diming.geonames.survey import run_survey
print(len(run_survey(sys.argv[1])["abnormalities"]))
"""

NAMECHECK = """
import sys
from diming.cli import main
main(["--project", sys.argv[1], "namecheck", sys.argv[2], "--format", "json", *sys.argv[3:]])
"""


def measure(code: str, *args, timeout=None) -> tuple[float | None, float]:
    """Seconds (None past ``timeout``) and peak resident memory (MB) of ``python -c code args``,
    each child process measured on its own (os.wait4)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=subprocess.DEVNULL,
                             env=environment)
    timer = threading.Timer(timeout, child.kill) if timeout else None
    if timer:
        timer.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if timer:
        timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode < 0:  # killed past the timeout
        return None, 0.0
    if child.returncode not in (0, 1):  # 1: the name or project has errors, which is fine here
        raise SystemExit(f"benchmark step failed with status {child.returncode}")
    return seconds, usage.ru_maxrss / 1024.0


def main(path: str) -> None:
    from diming.layers.store import layer_summary

    counts = {r["layer"]: r["count"] for r in layer_summary(path)}
    print("layers:", ", ".join(f"{k} {v:,}" for k, v in counts.items() if v), flush=True)
    read_s, read_mb = measure(READ, path)
    print(f"read layers : {read_s:7.1f} s  peak {read_mb:7.0f} MB", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "check.json"
        # the first check after a bulk import describes every name into the name index; later ones read it
        _stale_name_index(path)
        first_s, first_mb = measure(CHECK, path, report)
        print(f"diming check: {first_s:7.1f} s  peak {first_mb:7.0f} MB  ({first_s / read_s:.1f}× read; the first, "
              "builds the name index)", flush=True)
        check_s, check_mb = measure(CHECK, path, report)
        summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
        print(f"diming check: {check_s:7.1f} s  peak {check_mb:7.0f} MB  ({check_s / read_s:.1f}× read)", flush=True)
        read_s, read_mb = measure(READ, path)  # again, next to the check: the machine's load varies
        print(f"read layers : {read_s:7.1f} s  peak {read_mb:7.0f} MB  ({check_s / read_s:.1f}× read)", flush=True)
        print("findings:", summary, flush=True)
        for label, layer, key, field, value in _edits(path):
            for changes, what in (({field: value[1]}, label), ({field: value[0]}, "put back")):
                seconds = Path(tmp) / "changed.txt"
                changes = {k: v.wkt if hasattr(v, "wkt") else v for k, v in changes.items()}
                process_s, process_mb = measure(CHANGED, path, layer, key, json.dumps(changes), seconds)
                call_s, count = seconds.read_text().split()
                print(f"check --changed: {float(call_s):5.2f} s in the call, {process_s:5.1f} s whole process, "
                      f"peak {process_mb:5.0f} MB, {int(count):,} findings ({what})", flush=True)
    survey_s, survey_mb = measure(SURVEY, path)
    print(f"road survey : {survey_s:7.1f} s  peak {survey_mb:7.0f} MB  (classify and write the register)", flush=True)
    # the first namecheck on a project builds its name index; force that, as after a bulk import
    _stale_name_index(path)
    # then as at the counter: in the name's own county (the duplicate scope), and against the whole country
    # and names of other categories in their own scopes (village seats: county; 乡镇: province)
    for label, extra in (("county, first: builds the name index", ("长江路", "--district", "300907")),
                         ("county", ("长江路", "--district", "300907")), ("country", ("长江路",)),
                         ("村委会 in its county", ("长江村", "--district", "300907001201", "--category", "群众自治组织")),
                         ("乡镇 in its province", ("长江镇", "--district", "300907001", "--category", "21500"))):
        namecheck_s, namecheck_mb = measure(NAMECHECK, path, *extra, timeout=300)
        print("namecheck   : " + (f"{namecheck_s:7.1f} s" if namecheck_s else "  > 300 s (stopped)")
              + f"  peak {namecheck_mb:7.0f} MB  (one name, {label}; whole process)", flush=True)


def _stale_name_index(path) -> None:
    """Make the next use of the name index rebuild it, as on a project just imported."""
    con = sqlite3.connect(path)
    with con:
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'diming_name_meta'").fetchone():
            con.execute("UPDATE diming_name_meta SET fingerprint = 'stale'")
    con.close()


def _edits(path):
    """(label, layer, key, field, (value now, value to write)) of the single edits timed: a
    road renamed to a name many roads have, a marker moved 20 m off its line."""
    from diming.layers.store import read_geometries, read_layer

    road = read_layer(path, "roads", where="fid = 1", columns=("road_id", "name"), geometry=False).iloc[0]
    marker = read_layer(path, "boundary_markers", where="fid = 1", columns=("marker_id",), geometry=False).iloc[0]
    point = read_geometries(path, "boundary_markers", [marker["marker_id"]])[marker["marker_id"]]
    moved = type(point)(point.x + 0.0002, point.y)
    return [("road renamed", "roads", road["road_id"], "name", (road["name"], "长江路")),
            ("marker moved", "boundary_markers", marker["marker_id"], "geometry", (point, moved))]


if __name__ == "__main__":
    main(sys.argv[1])
