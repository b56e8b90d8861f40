"""Reports: rollups kept at ingest, one registry of reports for the JSON API, CSV and pages."""
