"""Reading vcrpy YAML: real cassettes load, every malformed or hostile shape is one CassetteError."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import yaml

from tarash.tarash_gateway.cassettes.vcr_yaml import load_vcr_yaml
from tarash.tarash_gateway.exceptions import CassetteError

# The real recorded cassettes committed with the project (imported from the vcrpy YAML
# files their NOTICE files name); written back out by vcrpy's own YAML serializer below.
REAL = sorted((Path(__file__).resolve().parents[2] / "cassettes").glob("*real/*.db"))

R = "request: {method: GET, uri: 'https://api.example.com/x', headers: {}, body: null}"
S = "response: {status: {code: 200, message: OK}, headers: {}, body: {string: hi}}"


def one(request: str = R, response: str = S) -> str:
    return f"interactions: [{{{request}, {response}}}]\n"


def with_request(fields: str) -> str:
    return one(request=f"request: {{{fields}}}")


def with_response(fields: str) -> str:
    return one(response=f"response: {{{fields}}}")


MALFORMED = {
    "a scalar document": ("42\n", "no 'interactions' list"),
    "an empty file": ("", "no 'interactions' list"),
    "a list document": ("- a\n", "no 'interactions' list"),
    "no interactions": ("version: 1\n", "no 'interactions' list"),
    "interactions not a list": ("interactions: {a: 1}\n", "no 'interactions' list"),
    "an interaction that is a number": ("interactions: [7]\n", "interaction 1 is malformed: is a number"),
    "a request that is a string": (one(request="request: 'GET /'"), "its request is a string"),
    "no request": (f"interactions: [{{{S}}}]\n", "its request is a null"),
    "no method": (with_request("uri: 'https://a.b/'"), "no HTTP method"),
    "a method that is a list": (with_request("method: [GET], uri: 'https://a.b/'"), "no HTTP method"),
    "no uri": (with_request("method: GET"), "has no uri"),
    "a uri that is not a URL": (with_request("method: GET, uri: 'http://[::1'"), "is not a URL"),
    "a uri that is not http": (with_request("method: GET, uri: 'file:///etc/passwd'"), "not an http(s) URL"),
    "headers as a string": (with_request("method: GET, uri: 'https://a.b/', headers: 'x'"), "headers are a string"),
    "a header holding lists": (with_request("method: GET, uri: 'https://a.b/', headers: {a: [[1]]}"), "holds a list"),
    "a body that is a list": (with_request("method: GET, uri: 'https://a.b/', body: [1]"), "request body is a list"),
    "a response that is a number": (one(response="response: 200"), "its response is a number"),
    "a status without code": (with_response("status: {message: OK}, body: {string: x}"), "no status code"),
    "a huge status code": (with_response("status: {code: 99999999999999999999999}, body: {string: x}"),
                           "no status code"),
    "a boolean status code": (with_response("status: {code: true}, body: {string: x}"), "no status code"),
    "a response body that is a list": (with_response("status: {code: 200}, body: [x]"), "response body is a list"),
    "a body string that is a number": (with_response("status: {code: 200}, body: {string: 5}"), "is a number"),
    "an old-format status code that is text": (with_response("status_code: abc, content: x"), "no status code"),
    "a response field that is not plain": (with_response("status: {code: 200}, body: {string: x}, extra: [1]"),
                                           "not a plain value"),
    "an unsafe python/object tag": ("interactions: !!python/object/apply:os.system ['echo pwned']\n",
                                    "could not determine a constructor"),
    "an unsafe python/name tag": ("interactions: [!!python/name:os.system '']\n", "could not determine a constructor"),
    "deeply nested lists": ("interactions: " + "[" * 100_000 + "]" * 100_000 + "\n", "not valid vcrpy YAML"),
    "deeply nested mappings": ("interactions: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", "not valid vcrpy YAML"),
    "a number of 100000 digits": ("interactions: [" + "9" * 100_000 + "]\n", "not valid vcrpy YAML"),
    "an impossible timestamp": ("interactions: [!!timestamp '2020-13-45']\n", "not valid vcrpy YAML"),
    "an unhashable key": ("interactions: [{? [a]: b}]\n", "found unhashable key"),
    "a syntax error": ("interactions: [{\n", "not valid vcrpy YAML"),
    "a NUL character": ("interactions: [\x00]\n", "not valid vcrpy YAML"),
}


@pytest.mark.parametrize("text, message", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_cassette_is_one_cassette_error_naming_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CassetteError) as raised:
        load_vcr_yaml(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("data", [bytes(range(256)) * 10, "interactions: [caf\xe9]".encode("latin-1")],
                         ids=["binary garbage", "latin-1 text"])
def test_a_file_that_is_not_utf8_is_refused(tmp_path, data):
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    with pytest.raises(CassetteError, match="is not UTF-8 text"):
        load_vcr_yaml(path)


def test_a_missing_file_is_a_cassette_error(tmp_path):
    with pytest.raises(CassetteError, match="cannot read"):
        load_vcr_yaml(tmp_path / "absent.yaml")


def test_the_real_recorded_cassettes_are_committed():
    assert len(REAL) == 23


@pytest.mark.parametrize("path", REAL, ids=[p.name[:60] for p in REAL])
def test_every_real_recorded_cassette_loads_as_vcrpy_writes_it(path, tmp_path):
    from vcr.serialize import serialize
    from vcr.serializers import yamlserializer

    from tarash.tarash_gateway.cassettes import SQLitePersister

    requests, responses = SQLitePersister.load_cassette(path)
    written = tmp_path / "cassette.yaml"
    written.write_text(serialize({"requests": requests, "responses": responses}, yamlserializer))
    pairs = load_vcr_yaml(written)
    assert len(pairs) == len(requests) > 0
    assert [r["uri"] for r, _ in pairs] == [r.uri for r in requests]
    for (_, loaded), recorded in zip(pairs, responses, strict=True):
        body = recorded["body"]["string"]
        assert loaded["body"]["string"] == (body.encode() if isinstance(body, str) else body)


def _gzip_bomb(tmp_path: Path, size: int, old_format: bool = False) -> Path:
    bomb = gzip.compress(bytes(size), compresslevel=9)
    headers = {"Content-Encoding": ["gzip"], "Content-Type": ["application/json"]}
    response = ({"status_code": 200, "headers": headers, "content": bomb} if old_format
                else {"status": {"code": 200, "message": "OK"}, "headers": headers, "body": {"string": bomb}})
    path = tmp_path / "bomb.yaml"
    path.write_text(yaml.safe_dump({"interactions": [{"request": {"method": "GET", "uri": "https://a.b/x",
                                                                  "headers": {}, "body": None},
                                                      "response": response}]}))
    return path


@pytest.mark.parametrize("old_format", [False, True], ids=["today's format", "old httpx format"])
def test_a_gzip_bomb_is_refused_past_the_cap(tmp_path, old_format):
    path = _gzip_bomb(tmp_path, 8 << 20, old_format)
    assert path.stat().st_size < 40_000
    with pytest.raises(CassetteError, match=r"decompressed body is over the 4 MiB cap .*--max-body-size"):
        load_vcr_yaml(path, max_body_size=4 << 20)
    assert len(load_vcr_yaml(path, max_body_size=16 << 20)) == 1  # under the cap it is an ordinary body


def test_the_cap_comes_from_the_environment_when_not_given(tmp_path, monkeypatch):
    path = _gzip_bomb(tmp_path, 3 << 20)
    monkeypatch.setenv("TARASH_MAX_BODY_SIZE", "2M")
    with pytest.raises(CassetteError, match="over the 2 MiB cap"):
        load_vcr_yaml(path)
    assert load_vcr_yaml(path, max_body_size=4 << 20)  # the argument wins


def test_a_yaml_alias_bomb_is_refused(tmp_path):
    body = "x" * 100_000
    path = tmp_path / "aliases.yaml"
    path.write_text(f"one: &i {{request: {{method: GET, uri: 'https://a.b/'}}, response: {{status: {{code: 200}}, "
                    f"body: {{string: {body}}}}}}}\ninteractions: [{', '.join(['*i'] * 1000)}]\n")
    with pytest.raises(CassetteError, match="expands to far more than the file holds"):
        load_vcr_yaml(path)


def test_a_few_aliases_of_ordinary_size_still_load(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("h: &h {Content-Type: [application/json]}\ninteractions:\n" + "".join(
        f"- {{request: {{method: GET, uri: 'https://a.b/{i}', headers: *h}}, response: {{status: {{code: 200}}, "
        f"headers: *h, body: {{string: '{{}}'}}}}}}\n" for i in range(3)))
    assert [r["headers"] for r, _ in load_vcr_yaml(path)] == [{"Content-Type": ["application/json"]}] * 3
