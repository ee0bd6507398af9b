"""Source connectors: one sub-package per source family, over a shared layer.

Shared layer (the modules at the top of this package; families build on them, never
on each other):
- `family.py`: `SourceFamily`, what a family is (name, connection, datasets,
  `make_client`, fetchers); `registry.py` lists every family explicitly.
- `extract.py`: running one extract (FetchLog, Interval, Fetcher; complete or nothing).
- `http_client.py`: the bounded, retrying JSON client of the HTTP families (`api_client`).
- `connections.py`: credentials from Airflow Connections or the environment.
- `json_bulk.py`: mapping JSON onto a dataset's typed columns in DuckDB (bulk sources).

Families (each package: `datasets.py` the contracts, `client.py` what `make_client`
opens, `fetchers.py` how each dataset is read; the package builds `FAMILY` from them with
`SourceFamily.from_modules`): `aws`, `cloudtrail` (also `reader.py`, `mapping.py`), `github`, `google`,
`okta`, and `exports` (hr, lms, grc, iga: daily files in the inbox, one fetcher).
"""
