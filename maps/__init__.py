"""Folium maps of a project, self-contained for offline use (``diming map …``).

One function per map: :func:`diming.maps.inspection.inspection_map`,
:func:`diming.maps.proposals.proposals_map`, :func:`diming.maps.heritage.heritage_map`,
:func:`diming.maps.check.check_map`.
"""
from __future__ import annotations

from pathlib import Path


def write_all_maps(project, folder, findings=None) -> list[dict]:
    """Write the inspection, proposals and heritage maps (and the check map when ``findings`` are
    given) into ``folder`` as ``map-*.html``; returns each map's ``{"output", "counts"}``."""
    from diming.maps.check import check_map
    from diming.maps.heritage import heritage_map
    from diming.maps.inspection import inspection_map
    from diming.maps.proposals import proposals_map

    folder = Path(folder)
    results = [inspection_map(project, folder / "map-inspection.html"),
               proposals_map(project, folder / "map-proposals.html"),
               heritage_map(project, folder / "map-heritage.html")]
    if findings is not None:
        results.append(check_map(project, folder / "map-check.html", findings))
    return results
