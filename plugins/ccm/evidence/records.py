"""Where an evaluation's evidence lives in the store, and the helpers its record is built with.

The record itself is `ccm.evidence.record.EvaluationRecord`, written by
`ccm.evidence.writer.EvidenceWriter` once per (control, period) evaluation and chained into
the ledger. It names every artefact by path and SHA-256, so `ccm evidence verify` can
recompute each hash from the stored bytes.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ccm.evidence.store import sha256_file

EVALUATIONS = "evaluations"
POPULATIONS = "populations"


def evaluation_record_key(control_id: str, period_label: str, version: int, evaluation_id: str) -> str:
    return f"{EVALUATIONS}/{control_id}/{period_label}/v{version:03d}-{evaluation_id}.json"


def population_key(control_id: str, period_label: str, evaluation_id: str) -> str:
    return f"{POPULATIONS}/{control_id}/{period_label}/{evaluation_id}.parquet"


@functools.cache
def git_commit(project_dir: Path) -> str:
    """The project's commit, or CCM_CODE_VERSION where there is no checkout (container images)."""
    if os.environ.get("CCM_CODE_VERSION"):
        return os.environ["CCM_CODE_VERSION"]
    try:
        out = subprocess.run(["git", "-C", str(project_dir), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True)
        commit = out.stdout.strip()
        dirty = subprocess.run(["git", "-C", str(project_dir), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def file_hash_or_none(path: Path | None) -> str | None:
    return sha256_file(path) if path and Path(path).is_file() else None


def canonical_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, indent=1, default=str).encode()


RECORD_FORMAT = 2
INPUTS = "inputs"


def input_manifest_key(lake_relative_path: str) -> str:
    """Where an extract manifest the evaluation rests on is copied in the evidence store.

    The lake is not write-once (event partitions are replaced on re-extract), so the
    manifests a result rests on are copied into the write-once store under their lake
    path; the copy is content-identical and shared by every evaluation that used it.
    """
    return f"{INPUTS}/{lake_relative_path.lstrip('/')}"


def actor() -> str:
    """Who is acting, for sign-offs: CCM_EVIDENCE_ACTOR, else user@host of the process."""
    import getpass
    import socket

    if os.environ.get("CCM_EVIDENCE_ACTOR"):
        return os.environ["CCM_EVIDENCE_ACTOR"]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
