"""The GeoPackage project store: schemas, reading, transactional writes with audit, settings, I/O."""
