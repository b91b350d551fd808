"""Proposals from an XLSX application form (申请表): one application a row, headed by the Chinese
field names (拟用名称, 所属政区代码, 申请理由, 含义, 申请单位, 起点, 终点, 宽度(米)) and the road
line as a ``wkt`` column (or any file ``diming import`` reads). Checked like any import: every row
first, each problem on one line naming file, row and field; nothing is written unless all pass."""
from __future__ import annotations

import dataclasses
import datetime as dt

from diming.errors import DimingError

# what an applicant fills in; states, dates and checks are the bureau's
FORM_FIELDS = ("name", "district", "reason", "meaning", "applicant", "start_desc", "end_desc", "width_m",
               "ordinal", "batch")


def _form_layer():
    from diming.layers.schema import get_layer

    layer = get_layer("road_proposals")
    fields = tuple(dataclasses.replace(f, required=f.name in ("name", "district"))
                   for f in layer.fields if f.name in FORM_FIELDS)
    return dataclasses.replace(layer, fields=fields, key=None)


def import_proposals(project, src, *, source_layer=None, encoding=None, crs=None, fields=None, fix=False, by=None,
                     today=None):
    """Register every application in ``src`` as a draft proposal; returns an ``ImportResult``."""
    from diming.geonames.proposals import new_record, next_key
    from diming.layers.imports import ImportFailed, ImportResult, map_fields, validate
    from diming.layers.sources import read_source
    from diming.layers.store import transaction

    today = today or dt.date.today()
    layer = _form_layer()
    source = read_source(src, source_layer=source_layer, encoding=encoding, crs=crs, geometry=True)
    mapping, ignored = map_fields(layer, source, fields or {})
    rows, errors, fixed, notices = validate(layer, source, mapping, fix=fix)
    records = []
    for i, row in enumerate(rows):
        if row is None:
            continue
        try:
            geometry = row.pop("geometry")
            records.append(new_record(project, row.pop("name"), geometry, today=today,
                                      start=row.pop("start_desc", None), end=row.pop("end_desc", None),
                                      width=row.pop("width_m", None), **row))
        except DimingError as exc:
            errors.append(f"{source.where(i)}: {exc}")
    if errors:
        raise ImportFailed(errors)
    with transaction(project, by=by) as tx:
        keys = set(tx.keys("road_proposals"))
        for record in records:
            record["proposal_id"] = next_key(keys, today.year)
            keys.add(record["proposal_id"])
        inserted = tx.insert("road_proposals", records, action="propose", note=f"导入申请表 {source.path.name}")
    return ImportResult("road_proposals", len(records), inserted=inserted, fixed=fixed, ignored_fields=ignored,
                        notices=notices)
