"""The simulator's listeners: plain and TLS serve the same providers, and answers follow the listener."""

from __future__ import annotations

import ast
import ssl
from pathlib import Path

import httpx
import pytest

from tarash.tarash_gateway.exceptions import ValidationError
from tarash.tarash_gateway.simulator import ProviderSimulator, SimulatorTLS, sdk_environment

SIMULATOR = Path(__file__).parents[2] / "src" / "tarash" / "tarash_gateway" / "simulator"
FAL = {"Authorization": "Key k"}


def test_no_provider_module_imports_the_server():
    for module in SIMULATOR.glob("*.py"):
        if module.name in ("server.py", "__init__.py"):
            continue
        imported = {node.module for node in ast.walk(ast.parse(module.read_text()))
                    if isinstance(node, ast.ImportFrom) and node.level == 1}
        assert "server" not in imported, f"{module.name} imports .server (an import cycle)"


def test_tls_listener_answers_with_https_job_and_media_urls(sim, http):
    submit = http.post(f"{sim.base_url('fal', tls=True)}/fal-ai/flux/dev", json={"prompt": "a cat"}, headers=FAL)
    assert submit.status_code == 200
    assert submit.json()["status_url"].startswith(f"{sim.tls_url}/fal/fal-ai/flux/requests/")
    while http.get(submit.json()["status_url"], headers=FAL).json()["status"] != "COMPLETED":
        pass
    result = http.get(submit.json()["response_url"], headers=FAL).json()
    image = result["images"][0]["url"]
    assert image.startswith(f"{sim.tls_url}/media/images/")
    png = http.get(image)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_plain_listener_keeps_answering_http_urls(sim, http):
    submit = http.post(f"{sim.base_url('fal')}/fal-ai/flux/dev", json={"prompt": "a cat"}, headers=FAL)
    assert submit.json()["status_url"].startswith(f"{sim.url}/fal/")
    assert sim.url.startswith("http://127.0.0.1:") and sim.tls_url.startswith("https://127.0.0.1:")


def test_a_client_without_the_test_ca_is_refused_and_others_still_served(sim, http):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{sim.tls_url}/media/images/512x512.png", verify=ssl.create_default_context(), timeout=5)
    assert http.get(f"{sim.tls_url}/media/images/512x512.png").status_code == 200


def test_plain_http_on_the_tls_port_fails_alone(sim, http):
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{sim.tls_url.replace('https://', 'http://')}/media/images/512x512.png", timeout=5)
    assert http.get(f"{sim.tls_url}/media/images/512x512.png").status_code == 200


def test_ca_bundle_trusts_the_listener_and_still_holds_public_roots(sim):
    bundle = sim.ca_file.read_text()
    assert bundle.count("BEGIN CERTIFICATE") > 10  # the test CA, then certifi's roots
    context = ssl.create_default_context(cafile=str(sim.ca_file))
    assert httpx.get(f"{sim.tls_url}/media/images/512x512.png", verify=context).status_code == 200


def test_generated_tls_files_are_removed_on_stop():
    simulator = ProviderSimulator(tls=True).start()
    bundle = simulator.ca_file
    assert bundle is not None and bundle.is_file()
    simulator.stop()
    assert not bundle.parent.exists()


def test_a_given_certificate_is_presented_and_its_files_kept(tmp_path):
    tls = SimulatorTLS.generate(tmp_path)
    with ProviderSimulator(tls=tls) as simulator:
        context = ssl.create_default_context(cafile=str(tls.ca_file))
        assert httpx.get(f"{simulator.tls_url}/media/images/512x512.png", verify=context).status_code == 200
    assert tls.cert_file.is_file() and tls.key_file.is_file()


def test_an_unloadable_certificate_is_a_validation_error(tmp_path):
    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    with pytest.raises(ValidationError, match="cannot load the simulator's TLS certificate"):
        ProviderSimulator(tls=SimulatorTLS(tmp_path / "cert.pem", tmp_path / "key.pem")).start()


def test_without_tls_the_tls_url_says_how_to_get_one(simulator):
    with pytest.raises(RuntimeError, match="tls=True"):
        _ = simulator.tls_url
    assert simulator.ca_file is None


def test_received_keeps_the_requests_with_their_headers(sim, http):
    http.get(f"{sim.base_url('runway')}/v1/tasks/nope", headers={"X-Runway-Version": "2024-11-06",
                                                                 "Authorization": "Bearer k", "X-Probe": "yes"})
    provider, request = sim.received[-1]
    assert provider == "runway" and request.path == "/v1/tasks/nope" and request.headers["x-probe"] == "yes"


def test_sdk_environment_points_fal_client_at_the_tls_listener(sim):
    env = sdk_environment(sim, "fal-client", api_key="fal-k")
    host = sim.tls_url.split("://", 1)[1]
    assert env == {"SSL_CERT_FILE": str(sim.ca_file), "FAL_KEY": "fal-k",
                   "FAL_RUN_HOST": f"{host}/fal/run", "FAL_QUEUE_RUN_HOST": f"{host}/fal"}


def test_sdk_environment_refuses_tls_sdks_without_tls_and_unknown_sdks(simulator):
    with pytest.raises(ValidationError, match="tls=True"):
        sdk_environment(simulator, "replicate")
    with pytest.raises(ValidationError, match="known: azure-openai"):
        sdk_environment(simulator, "xai-sdk")
    assert sdk_environment(simulator, "openai")["OPENAI_BASE_URL"] == simulator.base_url("openai")


def test_fal_run_host_answers_the_output_at_once(sim, http):
    answer = http.post(f"{sim.base_url('fal', tls=True)}/run/fal-ai/flux/dev", json={"prompt": "a cat", "num_images": 2},
                       headers=FAL)
    assert answer.status_code == 200
    images = answer.json()["images"]
    assert len(images) == 2 and images[0]["url"].startswith(f"{sim.tls_url}/media/images/")
    assert sim.jobs[-1].state == "completed"


def test_fal_run_host_answers_a_submit_failure_as_the_queue_does(sim, http):
    answer = http.post(f"{sim.base_url('fal')}/run/fal-ai/flux/dev", json={"prompt": "a cat #sim:validation"},
                       headers=FAL)
    assert answer.status_code == 422 and answer.json()["detail"][0]["type"] == "enum"


def test_concurrent_requests_on_both_listeners_each_get_their_own_origin(sim, http):
    from concurrent.futures import ThreadPoolExecutor

    def submit(tls: bool) -> tuple[bool, str]:
        answer = http.post(f"{sim.base_url('fal', tls=tls)}/fal-ai/flux/dev", json={"prompt": "a cat"}, headers=FAL)
        return tls, answer.json()["status_url"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(submit, [i % 2 == 0 for i in range(40)]))
    for tls, status_url in answers:
        assert status_url.startswith(f"{sim.tls_url if tls else sim.url}/fal/")


@pytest.mark.parametrize("hung_up", [BrokenPipeError, ConnectionResetError])
def test_a_client_hanging_up_mid_answer_prints_no_traceback_and_a_handler_bug_still_does(hung_up, capsys):
    from tarash.tarash_gateway.simulator.base import SimResponse
    from tarash.tarash_gateway.simulator.wire import Listener

    listener = Listener(lambda *request: SimResponse())
    try:
        server = listener._server
        for error, printed in ((hung_up("the client went away"), False), (KeyError("a bug"), True)):
            try:
                raise error
            except Exception:  # as socketserver calls it: inside the handler's except clause
                server.handle_error(None, ("127.0.0.1", 1))
            err = capsys.readouterr().err
            assert ("Traceback" in err) is printed, err
    finally:
        listener.close()
