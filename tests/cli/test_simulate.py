"""``tarash simulate`` serves the providers on loopback until its lifetime ends."""

from __future__ import annotations

import re
import subprocess
import sys

from click.testing import CliRunner

from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest


def test_simulate_serves_a_generation_then_stops_by_itself(clock):
    process = subprocess.Popen(
        [sys.executable, "-m", "tarash.tarash_gateway.cli", "simulate", "--max-lifetime", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        fal = next(re.search(r"base_url=(\S+)", line).group(1) for line in lines if line.strip().startswith("fal"))
        assert fal.startswith("http://127.0.0.1:")
        config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", api_key="k", base_url=fal, poll_interval=0.01)
        response = generate_video(config, VideoGenerationRequest(prompt="a cat"))
        assert response.video.startswith(fal.rsplit("/fal", 1)[0] + "/media/")
        assert response.origin.source == "provider"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_simulate_lifetime_ends_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "tarash.tarash_gateway.cli", "simulate", "--max-lifetime", "0.5"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0
    assert "replicate" in result.stdout and "base_url=http://127.0.0.1:" in result.stdout


def test_simulate_help_has_an_example():
    result = CliRunner().invoke(main, ["simulate", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "--scenario" in result.output


def test_simulate_tls_prints_the_ca_bundle_and_sdk_environment_then_removes_the_bundle():
    import ssl
    from pathlib import Path

    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "tarash.tarash_gateway.cli", "simulate", "--tls", "--max-lifetime", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        lines = []
        while not lines or not lines[-1].strip().startswith("runwayml"):
            lines.append(process.stdout.readline())
            assert lines[-1], "the command ended before printing the SDK environment"
        bundle = Path(next(re.search(r"SSL_CERT_FILE=(\S+)", line).group(1) for line in lines if "CA bundle" in line))
        tls_url = next(re.search(r"(https://127\.0\.0\.1:\d+)", line).group(1) for line in lines if "TLS listener" in line)
        fal = next(line for line in lines if line.strip().startswith("fal-client"))
        assert f"FAL_QUEUE_RUN_HOST={tls_url.split('://')[1]}/fal" in fal
        answer = httpx.get(f"{tls_url}/media/images/512x512.png", verify=ssl.create_default_context(cafile=str(bundle)))
        assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert not bundle.exists()


def test_simulate_tls_cert_without_key_is_a_usage_error(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = CliRunner().invoke(main, ["simulate", "--tls-cert", str(cert)])
    assert result.exit_code == 2 and "--tls-cert and --tls-key go together" in result.output


def test_simulate_with_a_concurrency_refuses_openai_jobs_past_it_with_a_429():
    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "tarash.tarash_gateway.cli", "simulate", "--max-concurrency", "1", "--max-lifetime", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(5)]
        openai = next(re.search(r"base_url=(\S+)", line).group(1) for line in lines if line.strip().startswith("openai"))
        codes = [httpx.post(f"{openai}/videos", headers={"Authorization": "Bearer k"}, files={"prompt": (None, "x")}).status_code
                 for _ in range(2)]
        assert codes == [200, 429]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
