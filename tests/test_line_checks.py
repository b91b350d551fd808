"""line.mismatch: a line that runs edge for edge along both areas' outlines is on their shared edge
and is not measured; any other line is measured in Gauss-Krüger along its whole length."""
import numpy as np
import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Polygon

from diming.boundaries.line_checks import _along
from diming.check import run_check
from diming.layers.store import transaction

# the shared edge of two counties, bent at a few vertices (degrees)
EDGE = [(120.1, 36.0), (120.1003, 36.02), (120.0998, 36.05), (120.1, 36.1)]


def build(project, lines):
    west = MultiPolygon([Polygon([(120.0, 36.0), *EDGE, (120.0, 36.1)])])
    east = MultiPolygon([Polygon([*EDGE, (120.2, 36.1), (120.2, 36.0)])])
    with transaction(project, by="t") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "西县", "level": "county", "geometry": west},
                                  {"code": "379902", "name": "东县", "level": "county", "geometry": east}])
        tx.insert("boundary_lines", [{"line_id": k, "name": f"界线{k}", "left_code": "379901", "right_code": "379902",
                                      "geometry": MultiLineString([coords])} for k, coords in lines.items()])


def test_lines_along_the_shared_edge_and_off_it(project, run):
    metre = 1 / 90000  # about a metre of longitude here
    build(project, {
        "0001": EDGE,  # cut from the areas: along both outlines
        "0002": EDGE[::-1],  # the same edges the other way round
        "0003": EDGE[:2],  # a part of the edge
        "0004": [EDGE[0], (EDGE[1][0] + 3 * metre, EDGE[1][1]), *EDGE[2:]],  # a vertex 3 m off: within 5 m
        "0005": [EDGE[0], (EDGE[1][0] + 20 * metre, EDGE[1][1]), *EDGE[2:]],  # 20 m off
        "0006": [EDGE[0], EDGE[-1]],  # straight across the bends: off by the bends (27 m)
    })
    found = {f.id: f for f in run_check(project, ["line"])}
    assert set(found) == {"0005", "0006"}
    assert found["0005"].measures["distance_m"] == pytest.approx(20, rel=0.1)
    assert found["0006"].measures["distance_m"] > 20
    out = run(project, "check", "--rules", "line", "--format", "json")
    assert out.exit_code == 1 and "0005" in out.output and "0004" not in out.output


def test_along_compares_whole_edges_of_each_lines_own_outlines():
    outline = MultiLineString([EDGE, [(0, 0), (1, 1)]])
    lines = [MultiLineString([EDGE[1:3]]), MultiLineString([[EDGE[1], EDGE[3]]]),
             MultiLineString([[(0, 0), (1, 1)], EDGE[:2]]), MultiLineString([EDGE[:2]])]
    other = MultiLineString([[(5, 5), (6, 6)]])
    sides = [[0, 0, 0, 1], [0, 0, 0, 0]]
    assert list(_along(lines, [np.array(s) for s in sides], np.array([outline, other], dtype=object))) \
        == [True, False, True, False]
