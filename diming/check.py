"""``diming check``: every rule on every layer of a project, in one run (项目检查).

Each rule family lives in one module that declares ``RULES`` (code -> severity) and a function
``check(data, rules) -> list[Finding]`` running just the chosen ``rules`` of the family (a
script asking for one rule gets that rule's work alone); this module only reads the project
once (:class:`CheckData`), runs the chosen families, and marks the findings the user accepted as
exceptions (检查例外, table ``check_exceptions``, written through the audited store). A check of
every rule is kept for ``--changed`` (:mod:`diming.incremental`).
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
import threading

from diming.errors import DimingError
from diming.findings import Finding, collector_paused

# rule family modules, in the order they run
FAMILIES = (
    "diming.geonames.name_checks",
    "diming.geonames.heritage_checks",
    "diming.geonames.proposal_checks",
    "diming.geonames.gazetteer_checks",
    "diming.boundaries.area_checks",
    "diming.boundaries.line_checks",
    "diming.boundaries.marker_checks",
    "diming.boundaries.inspection_checks",
    "diming.field_checks",
    "diming.geonames.sign_checks",
)


def rules() -> dict[str, str]:
    """Every rule code diming checks, with its severity."""
    out = {}
    for module in FAMILIES:
        out.update(importlib.import_module(module).RULES)
    return out


class CheckData:
    """The project's layers and settings, read once and shared by every rule (and by the families
    running at once on two threads: each read is made by the first to ask, the other waits for it)."""

    def __init__(self, project, chosen=None):
        from diming.layers.settings import get_settings

        self.project = project
        self.settings = get_settings(project)
        # the rules this run reports: a family may skip the work of the others
        self.rules = set(rules()) if chosen is None else set(chosen)
        self._cache: dict = {}
        self._reading: dict = {}  # key -> the lock of its read
        self._lock = threading.Lock()

    def _kept(self, key, read):
        """The cached ``read()`` of ``key``, read once whichever thread asks first."""
        with self._lock:
            lock = self._reading.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = read()
        return self._cache[key]

    def layer(self, name: str, where: str | None = None, params=(), *, columns=None, geometry: bool = True):
        from diming.layers.store import read_layer

        return self._kept((name, where, tuple(params), columns, geometry),
                          lambda: read_layer(self.project, name, where=where, params=params, columns=columns,
                                             geometry=geometry))

    def roads_in_use(self, names=None, among=None):
        """Roads in use: key, name, district, width and proposal, without geometry. A national
        project has a million roads, and decoding lines no rule looks at would be much of the
        check's time; rules take the few they need from :meth:`geometries` or :meth:`roads_near`.
        ``names``: only those carrying one of these names (see :func:`named`); ``among``: only
        those meeting this (SQL condition, parameters). Not kept: the name rules read it once, and
        a million roads' fields held to the end of the check would be a tenth of its memory."""
        from diming.layers.store import read_layer

        where, params = named("status = 'in_use'", (), names)
        if among is not None:
            where, params = f"{where} AND {among[0]}", (*params, *among[1])
        return read_layer(self.project, "roads", where=where, params=params,
                          columns=("road_id", "name", "district", "width_m", "proposal_id"), geometry=False)

    def roads_near(self, geometries):
        """Roads in use, with geometry, whose bounding box meets that of one of ``geometries``."""
        import shapely

        from diming.layers.store import read_layer

        boxes = shapely.bounds(geometries[~shapely.is_missing(geometries)])
        return read_layer(self.project, "roads", where="status = 'in_use'", boxes=boxes)

    def geometries(self, layer: str, keys) -> list:
        """The geometry of each of these features of ``layer`` (None for a feature without one)."""
        from diming.layers.store import read_geometries

        found = read_geometries(self.project, layer, set(keys))
        return [found.get(k) for k in keys]

    def open_proposals(self, names=None):
        """Proposals still being decided (announced ones are in ``roads``; the same states as
        namecheck); ``names``: only those carrying one of these names (see :func:`named`)."""
        from diming.geonames.namecheck import OPEN_STATES

        return self.layer("road_proposals", *named(f"status IN ({', '.join('?' * len(OPEN_STATES))})", OPEN_STATES,
                                                   names))

    def areas(self):
        """Admin areas with a usable geometry (invalid ones are reported by area.invalid); the
        index keeps each area's row number in the layer."""
        import shapely

        def valid():
            areas = self.layer("admin_areas")
            geoms = areas.geometry.values
            return areas[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & shapely.is_valid(geoms)]

        return self._kept("areas", valid)

    def divisions_of(self, frame, layer: str):
        """The division code of each feature of ``frame`` (from ``layer``): its ``district`` field,
        or else the code of the smallest admin area its representative point lies in ('' when neither)."""
        import numpy as np
        import shapely

        from diming.layers.schema import get_layer

        codes = (frame["district"].fillna("").to_numpy(dtype=object, copy=True) if "district" in frame
                 else np.full(len(frame), "", dtype=object))
        missing = np.flatnonzero(codes == "")
        areas = self.areas() if len(missing) else ()
        if len(missing) and len(areas):
            if "geometry" in frame:
                geoms = frame.geometry.values[missing]
            else:
                geoms = np.array(self.geometries(layer, frame[get_layer(layer).key].to_numpy()[missing]), dtype=object)
            points = shapely.point_on_surface(geoms)
            tree = shapely.STRtree(areas.geometry.values)
            point_i, area_i = tree.query(points, predicate="within")
            depth = areas["level"].map({"province": 0, "city": 1, "county": 2, "town": 3, "village": 4}).fillna(0)
            order = np.argsort(depth.values[area_i], kind="stable")  # deeper areas written last win
            codes[missing[point_i[order]]] = areas["code"].values[area_i[order]]
        return codes


def named(where: str | None, params, names) -> tuple[str | None, tuple]:
    """``where`` (None: every row) narrowed to the rows whose ``name`` is one of ``names`` (None:
    not narrowed), an SQL condition the layer's name index answers (``diming check --changed``
    reads the few features of some names among a million roads)."""
    if names is None:
        return where, tuple(params)
    sql = "name IN (SELECT value FROM json_each(?))"
    return (f"({where}) AND {sql}" if where else sql), (*params, json.dumps(sorted(names), ensure_ascii=False))


def _selected(prefixes):
    codes = rules()
    if not prefixes:
        return set(codes)
    chosen = set()
    for p in prefixes:
        p = p.strip().rstrip(".")
        match = {c for c in codes if c == p or c.startswith(p + ".")}
        if not match:
            raise DimingError(f"--rules {p}: 没有这样的检查规则 (no such rule); 可用: {', '.join(sorted(codes))}")
        chosen |= match
    return chosen


def run_check(project, rules: list[str] | None = None, *, changed: bool = False, progress=None) -> list[Finding]:
    """All findings of the chosen ``rules`` (code prefixes such as ``name`` or ``area.gap``; all when
    None), with accepted exceptions marked. ``progress(step)`` is called after each rule family.

    A check of every rule is kept in the project as its last result; ``changed``: re-run only
    what the edits since then can affect (:mod:`diming.incremental`), and keep that result."""
    from diming import incremental

    chosen, every = _selected(rules), _selected(None)
    with collector_paused():
        if changed:
            findings = incremental.check_changed(project)
            findings = findings if chosen == every else [f for f in findings if f.rule in chosen]
        elif chosen == every:
            findings = full_check(project, progress=progress)
        else:
            findings = _families(project, chosen, progress)
        accepted = exceptions(project)
        if accepted:
            for f in findings:
                f.exception_id = accepted.get((f.rule, tuple(f.keys)))
        return ordered(findings)


def full_check(project, *, progress=None) -> list[Finding]:
    """Every rule on the whole project, kept as its last check result (when it can be written)."""
    from diming import incremental

    upto = incremental.begin(project)
    # kept in the order reported, so the next --changed sorts what it adds into a sorted list
    findings = ordered(_families(project, set(rules()), progress))
    if upto is not None:
        incremental.keep(project, findings, upto)
    return findings


def _families(project, chosen: set, progress=None) -> list[Finding]:
    """The chosen rules' findings, family by family, on two threads: the name family, about half
    of a large project's check, here; the others on a second thread alongside (GEOS's coverage and
    predicates, SQLite reads and numpy mostly run with the GIL released, so a second core takes
    them). The name family stays on this thread to reuse the memory the name index's rebuild
    freed here: memory one thread's allocator freed is not another's (50–70 MB on the first check
    of a national project)."""
    from concurrent.futures import ThreadPoolExecutor

    from diming.geonames import heritage_checks, name_checks

    data = CheckData(project, chosen)
    if chosen & {*name_checks.RULES, *heritage_checks.RULES}:  # the families reading the name index
        name_checks.index_names(data)

    def run(module_name):
        module = importlib.import_module(module_name)
        wanted = chosen & set(module.RULES)
        return [f for f in module.check(data, frozenset(wanted)) if f.rule in wanted] if wanted else []

    here = name_checks.__name__
    beside = [m for m in FAMILIES if m != here]
    findings: list[Finding] = []
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        running = dict(zip(beside, [pool.submit(run, m) for m in beside]))
        for module_name in FAMILIES:
            findings += run(module_name) if module_name == here else running[module_name].result()
            if progress:
                progress(module_name.rsplit(".", 1)[1])
    finally:  # a family that failed stops the ones not yet begun
        pool.shutdown(cancel_futures=True)
    return findings


def ordered(findings: list[Finding]) -> list[Finding]:
    """Findings in the order they are reported: by rule, then feature, then the others involved
    and the message. One sort on all five: the keys it asks of every finding are kept (a cached
    property) for the stored result and the report, which ask them too."""
    from operator import attrgetter

    findings.sort(key=attrgetter("rule", "layer", "id", "keys", "message"))
    return findings


def exceptions(project) -> dict[tuple, str]:
    """Accepted findings: (rule, sorted keys) -> exception id."""
    from diming.layers.store import read_layer

    table = read_layer(project, "check_exceptions")
    return {(rule, tuple(sorted(json.loads(keys)))): eid
            for eid, rule, keys in zip(table["exception_id"], table["rule"], table["keys"])}


def accept(project, rule: str, keys: list[str], reason: str, *, by: str | None = None) -> str:
    """Record that the finding of ``rule`` on these features (``layer:id`` each) was reviewed and
    accepted, e.g. a real enclave for ``area.gap``; returns the exception id (``EX-0001`` …)."""
    from diming.layers.store import transaction

    if rule not in rules():
        raise DimingError(f"{rule}: 没有这样的检查规则 (no such rule)")
    if not reason or not reason.strip():
        raise DimingError("认可例外必须写明理由 (--reason is required)")
    if not keys or any(":" not in k for k in keys):
        raise DimingError("要素须写成 图层:编号, 如 admin_areas:379901001 (keys are layer:id)")
    with transaction(project, by=by) as tx:
        taken = tx.keys("check_exceptions")
        number = max((int(k.split("-")[1]) for k in taken if k.startswith("EX-")), default=0) + 1
        eid = f"EX-{number:04d}"
        tx.insert("check_exceptions", [{
            "exception_id": eid, "rule": rule, "keys": json.dumps(sorted(set(keys)), ensure_ascii=False),
            "reason": reason.strip(), "accepted_by": tx.by, "accepted_on": dt.date.today().isoformat()}],
            action="accept", note=reason.strip())
    return eid
