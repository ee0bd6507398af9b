"""The file-export families: systems that drop one full export a day in the inbox.

HR (`hr`: the roster), the learning platform (`lms`), the GRC tool and the screening
vendor (`grc`), the identity-governance tool (`iga`). One package for the four: they
share everything but their schemas, namely the client (the `Inbox`, a local
directory or S3 prefix, no credentials), the file layout
(`<inbox>/<source>/<dataset>/<dataset>_YYYY-MM-DD.<csv|json>`) and the one fetcher
(`daily.daily_export_fetcher`, whose missing-file message names the file expected).

- `inbox.py`: listing, choosing and parsing dated export files (CSV or JSON), recording
  each file read with its SHA-256.
- `contract.py`: an export checked whole against its contract (refused naming file, line
  and column) after the configured column mapping (renames, date formats, encoding).
- `daily.py`: the daily-export fetcher and `export_family`, the family each system is.
- `datasets.py`: every system's dataset contracts and export formats.
"""

from __future__ import annotations

from ccm.sources.exports.daily import export_family
from ccm.sources.exports.datasets import DATASETS, FORMATS

# grc, hr, iga, lms
FAMILIES = tuple(export_family(source, tuple(d for d in DATASETS if d.source == source), formats)
                 for source, formats in FORMATS.items())
