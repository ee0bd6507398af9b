"""The device extracts (Intune through Microsoft Graph, CrowdStrike Falcon hosts) against their
stand-ins: paging, OAuth2 client-credentials tokens, and the faults every source must
survive or refuse cleanly (429 storms, a 500 mid-pagination, an expired token, schema
drift, an outage): complete or nothing."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.manifests import RunContext, read_manifests
from ccm.pipeline import extract
from ccm.sources import crowdstrike, intune, jamf
from ccm.sources.crowdstrike.datasets import HOSTS
from ccm.sources.extract import Interval, run_extract
from ccm.sources.http_client import HttpSourceConfig, Secret
from ccm.sources.intune.datasets import MANAGED_DEVICES
from ccm.sources.jamf.datasets import COMPUTERS
from ccm.sources.oauth2 import ClientCredentials, OAuthApiClient
from ccm_demo.world import devices as world
from tests.conftest import set_clock
from tests.unit.devices.conftest import connection_of

DAY = Interval(datetime(2025, 10, 1), datetime(2025, 10, 2))
INTUNE_PATH = "/v1.0/deviceManagement/managedDevices"
FALCON_IDS, FALCON_DETAILS = "/devices/queries/devices/v1", "/devices/entities/devices/v2"
JAMF_PATH = "/api/v1/computers-inventory"
CONTRACT = {"intune": MANAGED_DEVICES, "crowdstrike": HOSTS, "jamf": COMPUTERS}


def _extract(settings, dataset, connection, sleeps=None, **overrides):
    sleeps = [] if sleeps is None else sleeps
    return extract(settings, dataset, DAY, RunContext(), lambda _conn_id: connection, sleep=sleeps.append,
                   **overrides)


def _rows(settings, manifest):
    return pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path)).to_pylist()


def _observed(small_spec):
    return small_spec.observation_time(DAY.end)


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(intune.fetchers, "PAGE_SIZE", 7)
    monkeypatch.setattr(crowdstrike.fetchers, "ID_PAGE_SIZE", 7)
    monkeypatch.setattr(crowdstrike.fetchers, "DETAILS_BATCH", 5)
    monkeypatch.setattr(jamf.fetchers, "PAGE_SIZE", 4)


# paging ---------------------------------------------------------------------------------

def test_intune_follows_odata_next_link_to_the_last_page(settings, intune_standin, small_pages, demo_dir, small_spec):
    manifest = _extract(settings, "intune.managed_devices", connection_of(intune_standin))
    expected = [d for d in world.load_devices(demo_dir) if world.in_intune(d, _observed(small_spec))]
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written == len(expected) > 7 * 4
    assert manifest.pages == -(-len(expected) // 7)
    rows = _rows(settings, manifest)
    assert {r["device_id"] for r in rows} == {d["intune_id"] for d in expected}
    assert all(isinstance(r["is_encrypted"], bool) and r["last_sync_at"] is not None for r in rows)
    assert sum("%24skiptoken=" in path for _m, path, _s in intune_standin.request_log) == manifest.pages - 1
    assert intune_standin.tokens_issued == 1  # one token serves the whole extract


def test_falcon_lists_ids_by_offset_then_reads_details_in_batches(settings, crowdstrike_standin, small_pages,
                                                                  demo_dir, small_spec):
    manifest = _extract(settings, "crowdstrike.hosts", connection_of(crowdstrike_standin))
    expected = [d for d in world.load_devices(demo_dir) if world.in_falcon(d, _observed(small_spec))]
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written == manifest.api_total == len(expected) > 7 * 4
    ids_pages, detail_pages = -(-len(expected) // 7), -(-len(expected) // 5)
    assert manifest.pages == ids_pages + detail_pages
    rows = _rows(settings, manifest)
    assert {r["device_id"] for r in rows} == {d["falcon_id"] for d in expected}
    assert {r["serial_number"] for r in rows} == {d["serial"] for d in expected}


def test_jamf_pages_by_number_with_every_section_until_the_total(settings, jamf_standin, small_pages, demo_dir,
                                                                small_spec):
    manifest = _extract(settings, "jamf.computers", connection_of(jamf_standin))
    expected = [d for d in world.load_devices(demo_dir) if world.in_jamf(d, _observed(small_spec))]
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written == manifest.api_total == len(expected) > 4 * 4
    assert manifest.pages == -(-len(expected) // 4)
    rows = _rows(settings, manifest)
    assert {r["serial_number"] for r in rows} == {d["serial"] for d in expected}
    assert {r["boot_partition_filevault_state"] for r in rows} <= {"ENCRYPTED", "UNENCRYPTED"}
    paths = [p for _m, p, _s in jamf_standin.request_log if p.startswith(JAMF_PATH)]
    assert all(p.count("section=") == 5 and "page-size=4" in p for p in paths)
    assert [p.split("&page=")[1].split("&")[0] for p in paths] == [str(n) for n in range(manifest.pages)]


# 429 storms -----------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "dataset", "path"), [("intune", "intune.managed_devices", INTUNE_PATH),
                                                          ("crowdstrike", "crowdstrike.hosts", FALCON_IDS),
                                                          ("jamf", "jamf.computers", JAMF_PATH)])
def test_a_429_storm_is_waited_out_as_retry_after_says(request, settings, small_pages, source, dataset, path):
    server = request.getfixturevalue(f"{source}_standin")
    server.inject(status=429, count=4, path=path, after=1)  # the second page is throttled four times
    sleeps: list[float] = []
    manifest = _extract(settings, dataset, connection_of(server), sleeps)
    assert manifest.status is ExtractStatus.COMPLETE
    assert sleeps == [1.0, 1.0, 1.0, 1.0]  # Retry-After: 1, honoured each time
    assert [s for _m, p, s in server.request_log if p.startswith(path)].count(429) == 4


@pytest.mark.parametrize(("source", "dataset", "path"), [("intune", "intune.managed_devices", INTUNE_PATH),
                                                          ("crowdstrike", "crowdstrike.hosts", FALCON_DETAILS),
                                                          ("jamf", "jamf.computers", JAMF_PATH)])
def test_a_429_storm_longer_than_the_retry_budget_fails_and_writes_nothing(request, settings, small_pages, source,
                                                                           dataset, path):
    server = request.getfixturevalue(f"{source}_standin")
    server.inject(status=429, count=50, path=path, after=1)
    with pytest.raises(SourceError, match=rf"{source}: .*{path}.* still failing after 3 attempts: HTTP 429"):
        _extract(settings, dataset, connection_of(server), max_attempts=3)
    lake = Lake(settings.lake_uri)
    assert [m.status for m in read_manifests(lake)] == [ExtractStatus.FAILED]
    assert lake.dataset_files(CONTRACT[source]) == []


# a 500 mid-pagination -------------------------------------------------------------------

@pytest.mark.parametrize(("source", "dataset", "path"), [("intune", "intune.managed_devices", INTUNE_PATH),
                                                          ("crowdstrike", "crowdstrike.hosts", FALCON_IDS),
                                                          ("jamf", "jamf.computers", JAMF_PATH)])
def test_a_500_mid_pagination_is_retried_once_and_the_extract_completes(request, settings, small_pages, source,
                                                                         dataset, path):
    server = request.getfixturevalue(f"{source}_standin")
    clean = _extract(settings, dataset, connection_of(server))
    server.inject(status=500, count=1, path=path, after=2)
    retried = _extract(settings, dataset, connection_of(server))
    assert retried.status is ExtractStatus.COMPLETE and retried.rows_written == clean.rows_written


@pytest.mark.parametrize(("source", "dataset", "path"), [("intune", "intune.managed_devices", INTUNE_PATH),
                                                          ("crowdstrike", "crowdstrike.hosts", FALCON_DETAILS),
                                                          ("jamf", "jamf.computers", JAMF_PATH)])
def test_a_page_that_keeps_failing_with_500_leaves_nothing_half_written(request, settings, small_pages, source,
                                                                        dataset, path):
    server = request.getfixturevalue(f"{source}_standin")
    server.inject(status=500, count=10, path=path, after=2)  # pages 1-2 fine, the third never
    with pytest.raises(SourceError, match=r"still failing after 2 attempts: HTTP 500"):
        _extract(settings, dataset, connection_of(server), max_attempts=2)
    lake = Lake(settings.lake_uri)
    assert lake.dataset_files(CONTRACT[source]) == []
    assert [m.status for m in read_manifests(lake)] == [ExtractStatus.FAILED]


# tokens ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "dataset"), [("intune", "intune.managed_devices"),
                                                 ("crowdstrike", "crowdstrike.hosts"),
                                                 ("jamf", "jamf.computers")])
def test_a_token_expiring_mid_pagination_is_renewed_once_and_the_extract_completes(request, settings, small_pages,
                                                                                   source, dataset):
    server = request.getfixturevalue(f"{source}_standin")
    server.expire_tokens_after(2)  # the token dies after the second page
    manifest = _extract(settings, dataset, connection_of(server))
    assert manifest.status is ExtractStatus.COMPLETE
    assert server.tokens_issued == 2
    assert [s for _m, _p, s in server.request_log].count(401) == 1


@pytest.mark.parametrize(("source", "dataset"), [("intune", "intune.managed_devices"),
                                                 ("crowdstrike", "crowdstrike.hosts"),
                                                 ("jamf", "jamf.computers")])
def test_a_refused_client_secret_fails_naming_the_token_endpoint_not_the_secret(request, settings, source, dataset):
    from dataclasses import replace

    server = request.getfixturevalue(f"{source}_standin")
    wrong = replace(connection_of(server), password=Secret("not-the-secret-1234"))
    with pytest.raises(SourceError, match=r"POST http://127.0.0.1:\d+/.*token \(client .*\) returned HTTP 40[01]: "
                                          r".*invalid_client|Invalid client") as caught:
        _extract(settings, dataset, wrong)
    assert "not-the-secret-1234" not in str(caught.value)
    assert "not-the-secret-1234" not in repr(wrong)


def test_a_token_that_is_refused_again_after_renewal_is_an_authorisation_failure(settings):
    """A 401 with a fresh token is not an expiry: the client fetches one new token, not one per request."""
    tokens = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            tokens.append(1)
            return httpx.Response(200, json={"access_token": f"t{len(tokens)}", "expires_in": 3599})
        return httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken", "message": "revoked"}})

    config = HttpSourceConfig(source="intune", base_url="https://graph.example", token=Secret("x"), max_attempts=1)
    client = OAuthApiClient(config, ClientCredentials("https://login.example/t/token", "id", Secret("s")),
                            transport=httpx.MockTransport(handler))
    with pytest.raises(SourceError, match=r"intune: GET /v1.0/x returned HTTP 401: .*revoked"):
        client.get_json("/v1.0/x")
    assert len(tokens) == 2


# schema drift ---------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "dataset", "path", "field", "reported"), [
    ("intune", "intune.managed_devices", INTUNE_PATH, "isEncrypted", "isEncrypted"),
    ("crowdstrike", "crowdstrike.hosts", FALCON_DETAILS, "last_seen", "last_seen"),
    ("jamf", "jamf.computers", JAMF_PATH, "operatingSystem", "operatingSystem.name"),  # a whole section gone
])
def test_a_record_missing_a_required_field_is_quarantined_and_nothing_is_written(request, settings, source, dataset,
                                                                                 path, field, reported):
    server = request.getfixturevalue(f"{source}_standin")
    server.inject(kind="drop_field", field=field, count=1, path=path)
    manifest = _extract(settings, dataset, connection_of(server))
    assert manifest.status is ExtractStatus.INCOMPLETE
    assert manifest.quarantine_reasons == {f"required field {reported!r} is missing": 1}
    assert Lake(settings.lake_uri).dataset_files(CONTRACT[source]) == []


def _graph_client(pages: list[dict]) -> OAuthApiClient:
    answers = iter(pages)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3599})
        return httpx.Response(200, json=next(answers))

    config = HttpSourceConfig(source="intune", base_url="https://graph.example", token=Secret("x"), max_attempts=1)
    return OAuthApiClient(config, ClientCredentials("https://login.example/t/token", "id", Secret("s")),
                          transport=httpx.MockTransport(handler))


def test_graph_answers_without_value_or_with_a_repeating_next_link_are_refused(settings):
    lake = Lake(settings.lake_uri)
    fetch = intune.fetchers.fetch_managed_devices
    with pytest.raises(SourceError, match=r"intune: GET .*managedDevices.*expected a JSON object with a 'value' list"):
        run_extract(MANAGED_DEVICES, DAY, fetch(_graph_client([{"devices": []}])), lake)
    link = "https://graph.example/v1.0/deviceManagement/managedDevices?$skiptoken=a"
    looping = [{"value": [], "@odata.nextLink": link}, {"value": [], "@odata.nextLink": link}]
    with pytest.raises(SourceError, match=r"@odata\.nextLink does not advance"):
        run_extract(MANAGED_DEVICES, DAY, fetch(_graph_client(looping)), lake)


def test_falcon_answers_that_carry_errors_or_fall_short_of_their_total_are_refused(settings, crowdstrike_standin,
                                                                                   small_pages):
    body = {"meta": {"pagination": {"offset": 0, "limit": 7, "total": 3}}, "resources": [],
            "errors": [{"code": 500, "message": "internal error"}]}
    crowdstrike_standin.inject(status=200, count=1, path=FALCON_IDS, body=body)
    with pytest.raises(SourceError, match=r"crowdstrike: .*the answer carries errors: 500: internal error"):
        _extract(settings, "crowdstrike.hosts", connection_of(crowdstrike_standin))
    short = {"meta": {"pagination": {"offset": 0, "limit": 7, "total": 99}}, "resources": [], "errors": []}
    crowdstrike_standin.inject(status=200, count=1, path=FALCON_IDS, body=short)
    with pytest.raises(SourceError, match=r"an empty page before the announced total \(0 of 99\)"):
        _extract(settings, "crowdstrike.hosts", connection_of(crowdstrike_standin))


# outages --------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["intune", "crowdstrike", "jamf"])
def test_an_outage_fails_the_extract_and_writes_nothing(request, settings, demo_dir, source):
    server = request.getfixturevalue(f"{source}_standin")
    outage = next(o for o in world.read_json(demo_dir / "world" / "outages.json") if o["source"] == source)
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), world.parse(outage["start"]) + timedelta(hours=1))
    server._outages = server._load_outages()
    dataset = CONTRACT[source].key
    with pytest.raises(SourceError, match=r"HTTP 503"):
        _extract(settings, dataset, connection_of(server), max_attempts=2)
    assert Lake(settings.lake_uri).dataset_files(CONTRACT[source]) == []


def test_a_token_is_renewed_before_its_announced_expiry_not_per_request():
    """Renewed a minute early (a tenth of the lifetime for short-lived tokens), so a token is
    neither used after it expires nor fetched again for every request."""
    now = [0.0]
    tokens = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            tokens.append(1)
            return httpx.Response(200, json={"access_token": f"t{len(tokens)}", "expires_in": 60})
        return httpx.Response(200, json={"value": []})

    config = HttpSourceConfig(source="intune", base_url="https://graph.example", token=Secret("x"), max_attempts=1)
    client = OAuthApiClient(config, ClientCredentials("https://login.example/t/token", "id", Secret("s")),
                            transport=httpx.MockTransport(handler), monotonic=lambda: now[0])
    for moment in (0.0, 30.0, 53.0):
        now[0] = moment
        client.get_json("/v1.0/x")
    assert len(tokens) == 1
    now[0] = 54.0  # within the last tenth of its 60 s
    client.get_json("/v1.0/x")
    assert len(tokens) == 2
