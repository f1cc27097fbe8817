"""`tarash cassette export` of a PostgreSQL cassette: from its URL, the same JSONL and HAR
(its HTTP exchanges), byte for byte, as from the file `pull` makes of it; its blobs
written to `--blobs-dir`; an export that imports back into a file and replays; and the
output's safety rules, whichever store the export reads."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes import CassetteStore, interop
from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError, GenerationFailedError

from ..conftest import AcmeHandler, MediaServer, config, request
from ..http.conftest import AppFace
from ..http.provider_server import MEDIA, ProviderServer
from .conftest import PASSWORD

LOCAL = {"http_hosts": ("127.0.0.1",)}
PROMPTS = ("a lighthouse at dusk", "a lighthouse at dusk", "a fox in snow")


@dataclass
class Shared:
    """A PostgreSQL cassette holding recordings (one an error), media and HTTP exchanges,
    and `pulled`, the file `tarash cassette pull` made of it."""

    url: str
    pulled: Path
    provider: ProviderServer
    video: bytes


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def shared(acme: AcmeHandler, media_server: MediaServer, pg_url: str, tmp_path: Path):
    video = b"\x00\x00\x00\x18ftypmp42" + uuid.uuid4().bytes * 8192  # past the inline limit, and ours alone
    media_server.files["/v.mp4"] = video
    acme.video = f"{media_server.url}/v.mp4"
    with use_cassette(pg_url):
        for prompt in PROMPTS:
            generate_video(config(), request(prompt))
        with pytest.raises(GenerationFailedError):
            generate_video(config(), request("fail on the GPU"))
    with ProviderServer() as provider:
        with use_cassette(pg_url, record_mode="new_episodes", **LOCAL):  # a second run adds the HTTP level
            AppFace("sync", "httpx").run(provider.base)
        pulled = tmp_path / "pulled.db"
        assert invoke("cassette", "pull", pg_url, str(pulled)).exit_code == 0
        yield Shared(pg_url, pulled, provider, video)


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("options", [[], ["--embed-blobs"]], ids=["plain", "embedded blobs"])
def test_a_url_exports_the_same_jsonl_as_the_file_pulled_from_it(shared, tmp_path, options):
    from_url, from_file = tmp_path / "url.jsonl", tmp_path / "file.jsonl"
    done = invoke("cassette", "export", shared.url, str(from_url), *options)
    assert done.exit_code == 0 and invoke("cassette", "export", str(shared.pulled), str(from_file), *options).exit_code == 0
    assert from_url.read_bytes() == from_file.read_bytes()
    kinds = [line["type"] for line in lines_of(from_url)]
    assert kinds.count("recording") == 4 and kinds.count("exchange") >= 6 and kinds.count("blob") >= 3
    assert any(line.get("media") for line in lines_of(from_url) if line["type"] == "recording")
    assert done.stdout == f"exported {len(kinds)} lines from {shared.url.replace(f':{PASSWORD}@', '@')} to {from_url}\n"
    assert PASSWORD not in done.output


def test_a_url_exports_to_stdout_what_it_exports_to_a_file(shared, tmp_path):
    to_file = tmp_path / "url.jsonl"
    assert invoke("cassette", "export", shared.url, str(to_file)).exit_code == 0
    printed = invoke("cassette", "export", shared.url)
    assert printed.exit_code == 0 and printed.stdout == to_file.read_text(encoding="utf-8")


def test_a_url_exports_the_same_har_as_the_file_pulled_from_it(shared, tmp_path):
    from_url, from_file = tmp_path / "url.har", tmp_path / "file.har"
    done = invoke("cassette", "export", shared.url, str(from_url))  # a .har OUTPUT: HAR
    assert done.exit_code == 0, done.output
    assert invoke("cassette", "export", str(shared.pulled), str(from_file), "--format", "har").exit_code == 0
    assert from_url.read_bytes() == from_file.read_bytes()
    # a database keeps no imported interactions (imports go into a file): its entries are its HTTP exchanges
    entries = json.loads(from_url.read_text())["log"]["entries"]
    store = PgCassetteStore.open(shared.url, create=False)
    assert store is not None
    try:
        held = store.count_exchanges()
    finally:
        store.close()
    assert len(entries) == held >= 6
    assert entries[0]["request"]["method"] == "POST" and entries[0]["request"]["url"].startswith(shared.provider.base)
    media = [e["response"]["content"] for e in entries if e["response"]["content"]["mimeType"] == "image/png"]
    assert media and all(base64.b64decode(c["text"]) == MEDIA for c in media)
    assert done.stdout.endswith(f"exported {held} entries from {shared.url.replace(f':{PASSWORD}@', '@')} to "
                                f"{from_url} as HAR 1.2\n")
    assert PASSWORD not in done.output


def test_blobs_dir_of_a_url_export_holds_every_blob_named_by_its_hash(shared, tmp_path):
    blobs, export = tmp_path / "blobs", tmp_path / "url.jsonl"
    assert invoke("cassette", "export", shared.url, str(export), "--blobs-dir", str(blobs)).exit_code == 0
    listed = {line["sha256"]: line["size"] for line in lines_of(export) if line["type"] == "blob"}
    written = {f.name: f.read_bytes() for f in blobs.iterdir()}
    assert set(written) == set(listed) and len(listed) >= 3
    for digest, data in written.items():
        assert hashlib.sha256(data).hexdigest() == digest and len(data) == listed[digest]
    assert max(listed.values()) > 64 * 1024  # the video: in the directory only, not inline
    file_blobs = tmp_path / "file-blobs"
    assert invoke("cassette", "export", str(shared.pulled), str(tmp_path / "f.jsonl"),
                  "--blobs-dir", str(file_blobs)).exit_code == 0
    assert {f.name: f.read_bytes() for f in file_blobs.iterdir()} == written


def test_a_url_export_imports_back_into_a_fresh_file_that_replays_as_the_url_does(shared, acme, tmp_path):
    export, blobs, fresh = tmp_path / "url.jsonl", tmp_path / "blobs", tmp_path / "fresh" / "run.db"
    assert invoke("cassette", "export", shared.url, str(export), "--blobs-dir", str(blobs)).exit_code == 0
    imported = invoke("cassette", "import", str(export), str(fresh), "--blobs-dir", str(blobs))
    assert imported.exit_code == 0 and "imported 4 recordings" in imported.output, imported.output
    again = tmp_path / "again.jsonl"
    assert invoke("cassette", "export", str(fresh), str(again)).exit_code == 0
    assert again.read_bytes() == export.read_bytes()  # nothing lost or changed on the way
    shared.provider.stop()
    calls = acme.calls
    replays = []
    for cassette in (shared.url, str(fresh)):
        with use_cassette(cassette, record_mode="none", media="content"):
            videos = [generate_video(config(), request(p)) for p in PROMPTS]
            with pytest.raises(GenerationFailedError) as failed:
                generate_video(config(), request("fail on the GPU"))
            flow = AppFace("sync", "httpx").run(shared.provider.base)  # its provider is gone
        replays.append(([(v.request_id, v.video) for v in videos], str(failed.value), flow))
    assert acme.calls == calls  # replayed: the provider was not called
    assert replays[0] == replays[1]
    videos, _, flow = replays[1]
    assert [rid for rid, _ in videos] == ["acme-1", "acme-2", "acme-3"]  # repeats in recorded order
    assert videos[0][1]["content"] == shared.video and flow["media"] is not None


@pytest.mark.parametrize("options", [[], ["--format", "har"]], ids=["jsonl", "har"])
@pytest.mark.parametrize("which", ["missing cassette", "unreachable server"])
def test_export_of_a_url_it_cannot_read_is_one_error_and_writes_no_output(pg_server, tmp_path, which, options):
    url = pg_server.url(f"none-{uuid.uuid4().hex[:8]}") if which == "missing cassette" \
        else f"postgresql://u:{PASSWORD}@127.0.0.1:1/db?cassette=farm"
    output = tmp_path / "out.jsonl"
    result = invoke("cassette", "export", url, str(output), "--blobs-dir", str(tmp_path / "blobs"), *options)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 1 and result.stderr.splitlines() == errors and len(errors) == 1, result.output
    assert ("does not exist" if which == "missing cassette" else "cannot be reached") in errors[0]
    assert PASSWORD not in result.output
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file, no blobs directory


def test_export_of_a_url_replaces_an_existing_output_only_with_force(shared, tmp_path):
    output = tmp_path / "kept.jsonl"
    output.write_text("mine\n")
    before = sorted(tmp_path.iterdir())
    refused = invoke("cassette", "export", shared.url, str(output))
    assert refused.exit_code == 1 and "exists; give --force to replace it" in refused.stderr
    assert output.read_text() == "mine\n"
    assert invoke("cassette", "export", shared.url, str(output), "--force").exit_code == 0
    assert lines_of(output)[0]["type"] == "cassette"
    assert sorted(tmp_path.iterdir()) == before  # no temporary file left beside it


def test_a_database_export_checks_no_path_and_a_file_still_refuses_to_export_onto_itself(shared, tmp_path):
    store = PgCassetteStore.open(shared.url, create=False)
    assert store is not None and store.file is None
    try:
        target = tmp_path / "from-db.jsonl"
        assert interop.write_export(store, target) == len(lines_of(target))
        assert interop.export_size(store) == len(lines_of(target)) - 1  # the progress bar's length
    finally:
        store.close()
    before = shared.pulled.read_bytes()
    file = CassetteStore.open(shared.pulled, create=False)
    try:
        for name in (shared.pulled, Path(f"{shared.pulled}-wal")):
            with pytest.raises(CassetteError, match="itself; export to another file"):
                interop.write_export(file, name, force=True)
    finally:
        file.close()
    assert shared.pulled.read_bytes() == before
