"""CloudTrail: management events and log-file integrity digests from the trail's S3 bucket.

The trail delivers gzip log files (`{"Records": [...]}`) under
`AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/` keyed by delivery date, and hourly digest
files under `AWSLogs/<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/` that list the log files
delivered during the hour with the SHA-256 of their uncompressed content and chain to the
previous digest by its hash. Three datasets:

- `cloudtrail.events`: every management event, partitioned by `eventTime` (never by the
  file's name or date: the last minutes of a day are delivered after midnight). An
  extract over [start, end) lists the date prefixes that can hold its events (its days
  and the next), reads the digests under those prefixes, and reads the log files
  the digests say overlap the interval plus any file no digest lists yet. It is complete
  only if every file a digest lists for the interval was delivered with the hash the
  digest records and every record fits the contract; otherwise it is incomplete naming
  the file or record, and nothing is written. Records are deduplicated by eventID
  (CloudTrail may deliver a record twice).
- `cloudtrail.trail_changes`: the calls that change what the trail records
  (StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors, ...), read the same way
  but complete over the files that were delivered intact: a listed file that is missing
  or altered is a gap the digests dataset reports (and the continuity control fails),
  not a reason to stop looking at the rest. Only the continuity control uses it.
- `cloudtrail.digests`: one row per hour of digest coverage per account and region in
  scope: the digest found (or the hour missing one), the log files it lists and how
  many of them were not delivered or differ from their recorded hash, and whether the
  next digest's chain confirms this digest's own hash. The basis of log continuity.

Scope (accounts and regions) comes from the `aws_default` connection's extra (`accounts`
with `regions`; the bucket in `cloudtrail_bucket`, an optional key prefix in
`cloudtrail_prefix`); without it, the account and region prefixes found in the bucket
are used. The RSA signatures of digests are not verified (that needs AWS's public keys
through `ListPublicKeys`); the hash chain is.

Parsing is bulk: files are fetched and verified in a thread pool, decompressed once,
and mapped onto the typed columns by DuckDB (`ccm.sources.json_bulk`), producing one
Arrow table per extract. No boto3, duckdb or pyarrow at import time.

The family's parts: datasets.py (the dataset contracts), client.py (the archive, caches, make_client), reader.py (digests and log files, verified), mapping.py (DuckDB mapping onto typed columns), fetchers.py (events, trail changes, digest rows).
Import names from those modules (the package only builds `FAMILY`); tunables (page
sizes, limits) stay in the module that uses them: patch them there.
"""

from __future__ import annotations

from ccm.sources.cloudtrail import client, datasets, fetchers
from ccm.sources.family import SourceFamily

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
