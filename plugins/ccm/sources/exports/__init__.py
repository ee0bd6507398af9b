"""The file-export families: systems that drop one full export a day in the inbox.

HR (`hr`: the roster), the learning platform (`lms`), the GRC tool and the screening
vendor (`grc`), the identity-governance tool (`iga`). One package for the four, a module
each: they share everything but their schemas, namely the client (the `Inbox`, a local
directory or S3 prefix, no credentials), the file layout
(`<inbox>/<source>/<dataset>/<dataset>_YYYY-MM-DD.<csv|json>`) and the one fetcher
(`daily.daily_export_fetcher`, whose missing-file message names the file expected).

- `inbox.py`: listing, choosing and parsing dated export files (CSV or JSON), recording
  each file read with its SHA-256.
- `daily.py`: the daily-export fetcher and `export_family`, the family every module here is.
- `hr.py`, `lms.py`, `grc.py`, `iga.py`: each system's dataset contracts and its `FAMILY`.
"""

from __future__ import annotations

from ccm.sources.exports import grc, hr, iga, lms

FAMILIES = (grc.FAMILY, hr.FAMILY, iga.FAMILY, lms.FAMILY)

__all__ = ["FAMILIES", "grc", "hr", "iga", "lms"]
