"""The pack's results as an OSCAL `assessment-results` document (NIST OSCAL 1.1.x JSON model).

Mapping:
- one `result` for the pack's window (Type II) or day (Type I), `reviewed-controls`
  listing every TSC criterion the control matrix addresses;
- `local-definitions.components`: one component per control (the automated test);
- one `observation` per control-period (current version): method TEST, the control as
  subject, the evaluation record, population and GX result as `relevant-evidence` (hrefs
  relative to the pack), status and failing / excepted entities as props;
- one `finding` per (control, criterion): `satisfied` when every period in the window
  passed or was excepted, `not-satisfied` otherwise, related to its observations.

UUIDs are version-5 UUIDs derived from stable names, so rebuilding a pack over the same
evidence yields the same identifiers.
"""

from __future__ import annotations

import uuid
from typing import Any

OSCAL_VERSION = "1.1.2"
NS = "https://github.com/ccm-soc2/ccm/ns/oscal"
_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NS)


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_ROOT, "/".join(parts)))


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": str(value)}


def assessment_results(*, title: str, window_start: str, window_end: str, generated_at: str, mode: str,
                       controls: list[dict[str, Any]], periods: list[dict[str, Any]],
                       organisation: str) -> dict[str, Any]:
    """`controls`: control_id, title, description, criteria, owner, frequency.
    `periods`: control_id, period_start, period_end, status, version, record_href, population_href,
    gx_result_href, failing, excepted, reason, evaluated_at (None for periods with no evidence)."""
    party = stable_uuid("party", organisation)
    components = [{
        "uuid": stable_uuid("component", c["control_id"]),
        "type": "process-procedure",
        "title": f"{c['control_id']}: {c['title']}",
        "description": c["description"],
        "props": [_prop("control-id", c["control_id"]), _prop("frequency", c["frequency"]),
                  _prop("owner", c["owner"])],
        "status": {"state": "operational"},
    } for c in controls]
    observations: list[dict[str, Any]] = []
    by_control: dict[str, list[str]] = {}
    for p in periods:
        obs_uuid = stable_uuid("observation", p["control_id"], p["period_start"], str(p.get("version") or 0))
        evidence = [{"href": href, "description": what} for what, href in (
            ("evaluation record (run manifest)", p.get("record_href")), ("tested population", p.get("population_href")),
            ("Great Expectations validation result", p.get("gx_result_href"))) if href]
        observation = {
            "uuid": obs_uuid,
            "title": f"{p['control_id']} {p['period_start'][:10]}: {p['status']}",
            "description": (f"Automated test of {p['control_id']} for [{p['period_start']}, {p['period_end']}): "
                            f"{p['status']}" + (f" ({p['reason']})" if p.get("reason") else "") + "."),
            "props": [_prop("status", p["status"]), _prop("period-start", p["period_start"]),
                      _prop("period-end", p["period_end"])]
                     + ([_prop("version", str(p["version"]))] if p.get("version") else [])
                     + [_prop("failing-entity", e) for e in p.get("failing") or []]
                     + [_prop("excepted-entity", e) for e in p.get("excepted") or []],
            "methods": ["TEST"],
            "types": ["control-objective"],
            "subjects": [{"subject-uuid": stable_uuid("component", p["control_id"]), "type": "component"}],
            "collected": p.get("evaluated_at") or generated_at,
        }
        if evidence:
            observation["relevant-evidence"] = evidence
        observations.append(observation)
        by_control.setdefault(p["control_id"], []).append(obs_uuid)
    status_of: dict[str, list[str]] = {}
    for p in periods:
        status_of.setdefault(p["control_id"], []).append(p["status"])
    findings = []
    criteria: set[str] = set()
    for c in controls:
        statuses = status_of.get(c["control_id"], [])
        satisfied = bool(statuses) and all(s in ("pass", "excepted") for s in statuses)
        counts = ", ".join(f"{s} {statuses.count(s)}" for s in sorted(set(statuses))) or "no periods tested"
        for criterion in c["criteria"]:
            criteria.add(criterion)
            finding = {
                "uuid": stable_uuid("finding", c["control_id"], criterion, window_start, window_end),
                "title": f"{criterion} / {c['control_id']}",
                "description": f"{c['title']}. Periods in the window: {counts}.",
                "target": {"type": "objective-id", "target-id": f"{criterion.lower()}_obj",
                           "status": {"state": "satisfied" if satisfied else "not-satisfied"}},
            }
            if by_control.get(c["control_id"]):
                finding["related-observations"] = [{"observation-uuid": u} for u in by_control[c["control_id"]]]
            findings.append(finding)
    result: dict[str, Any] = {
        "uuid": stable_uuid("result", mode, window_start, window_end),
        "title": title,
        "description": (f"Continuous control monitoring results ({'Type II, observation window' if mode == 'type2' else 'Type I, as of'} "
                        f"{window_start[:10]} .. {window_end[:10]})."),
        "start": window_start,
        "end": window_end,
        "local-definitions": {"components": components} if components else None,
        "reviewed-controls": {"control-selections": [{"include-controls": [
            {"control-id": c.lower()} for c in sorted(criteria)]}] if criteria else [{"include-all": {}}]},
    }
    if result["local-definitions"] is None:
        del result["local-definitions"]
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    return {"assessment-results": {
        "uuid": stable_uuid("assessment-results", mode, window_start, window_end, generated_at),
        "metadata": {
            "title": title, "last-modified": generated_at, "version": generated_at[:10], "oscal-version": OSCAL_VERSION,
            "parties": [{"uuid": party, "type": "organization", "name": organisation}],
        },
        "import-ap": {"href": "../index.html",
                      "remarks": "The assessment plan is the control matrix and the Great Expectations suites, "
                                 "reproduced in this pack (index.html and controls/)."},
        "results": [result],
    }}
