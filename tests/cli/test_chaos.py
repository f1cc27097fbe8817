"""``tarash chaos`` and its report: outcome counts printed, a self-contained HTML page rendered and parsed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml
from click.testing import CliRunner

from tarash.tarash_gateway import Retry, use_middleware
from tarash.tarash_gateway.chaos_report import ChaosRecorder, render_html, summarize
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import HTTPError, RateLimitError
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest


class Page(HTMLParser):
    """The elements of a rendered report: tags with their attributes, and each <title>'s text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.titles: list[str] = []
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)

    def having(self, tag, cls=None):
        return [a for t, a in self.tags if t == tag and (cls is None or cls in a.get("class", "").split())]


def chaos(tmp_path, *args, env=None):
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["chaos", *args, "--report", str(report)], env=env)
    return result, report


def printed(result, name):
    return int(re.search(rf"(\d+) {name}", result.output).group(1))


def test_the_demo_prints_its_outcomes_and_draws_every_attempt(tmp_path):
    result, report = chaos(tmp_path, "--demo", "--calls", "40")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("calls 40: ") and f"report: {report}" in result.output
    page = Page(report.read_text())
    attempts = int(re.search(r"attempts (\d+):", result.output).group(1))
    assert len(page.having("g", "call")) == 40
    assert len(page.having("rect", "attempt")) == attempts
    assert len(page.having("rect", "skipped")) == printed(result, "skipped") > 0  # Kling cannot take 8 s
    assert len(page.having("line", "wait")) == printed(result, "retries") > 0  # every retry waited
    assert page.having("svg") and {a["id"] for a in page.having("svg")} == {"timeline", "latency"}
    assert page.having("rect", "bar")
    assert any("injected error:HTTPError" in t for t in page.titles)
    assert any("UnsupportedRequestError: kwaivgi/kling-v2.1 does not take duration_seconds=8" in t for t in page.titles)


def test_the_report_is_self_contained(tmp_path):
    _, report = chaos(tmp_path, "--demo", "--calls", "5")
    page = Page(report.read_text())
    assert not page.having("script") and not page.having("link") and not page.having("img")
    assert not [a for _, a in page.tags if "src" in a or "href" in a]
    assert page.having("style")


def scripted_file(tmp_path, **extra):
    config = {
        "provider": "fal", "model": "fal-ai/veo3.1/fast",
        "mock": {"order": "cycle", "responses": [{}, {"error": {"type": "HTTPError", "message": "down", "status_code": 503}}]},
        "fallback_configs": [{"provider": "openai", "model": "sora-2", "mock": {}}],
    }
    path = tmp_path / "flaky.yaml"
    path.write_text(yaml.safe_dump({"config": config, "request": {"prompt": "p", "duration_seconds": 8}, **extra}))
    return path


def test_a_scripted_config_gives_exact_counts(tmp_path):
    result, report = chaos(tmp_path, str(scripted_file(tmp_path, calls=10)), "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "calls 10: 5 ok, 5 ok after fallback"
    assert "attempts 15: 5 faults injected, 0 skipped, 0 retries, 5 fallbacks" in result.output
    page = Page(report.read_text())
    assert len(page.having("rect", "failed")) == 5 and len(page.having("rect", "success")) == 10


def test_calls_on_the_command_line_win_over_the_file(tmp_path):
    result, _ = chaos(tmp_path, str(scripted_file(tmp_path, calls=10)), "-n", "4", "--concurrency", "1")
    assert result.stdout.splitlines()[0] == "calls 4: 2 ok, 2 ok after fallback"


def test_a_config_that_would_call_a_real_provider_is_refused(tmp_path):
    path = tmp_path / "real.json"
    path.write_text('{"provider": "fal", "model": "fal-ai/veo3.1"}')
    result, report = chaos(tmp_path, str(path))
    assert result.exit_code == 1 and not report.exists()
    assert "fal/fal-ai/veo3.1 would call the real provider" in result.output and "--allow-real" in result.output


@pytest.mark.parametrize(
    "content, message",
    [
        ("provider: [unclosed", "cannot read"),
        ("- just\n- a list\n", "expected a config (a mapping with provider and model), got list"),
        ("provider: fal\n", "bad.yaml: model: Field required"),
        ("kind: audio\nconfig: {provider: fal, model: m}\n", "kind must be video or image, got 'audio'"),
    ],
)
def test_a_bad_chaos_file_is_one_clear_line(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    result, _ = chaos(tmp_path, str(path))
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_a_script_runs_recorded_and_its_real_calls_are_refused(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text(
        "from tarash.tarash_gateway import generate_video\n"
        "from tarash.tarash_gateway.mock import MockConfig\n"
        "from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest\n"
        "mocked = VideoGenerationConfig(provider='fal', model='fal-ai/veo3.1', mock=MockConfig(validate=False))\n"
        "for i in range(3):\n"
        "    generate_video(mocked, VideoGenerationRequest(prompt=f'shot {i}'))\n"
        "generate_video(VideoGenerationConfig(provider='openai', model='sora-2', api_key='sk-real'),\n"
        "               VideoGenerationRequest(prompt='costly'))\n"
    )
    result, report = chaos(tmp_path, str(script))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "calls 4: 3 ok, 1 BudgetExceededError"
    assert "pipeline.py raised BudgetExceededError: refused a real video call to openai/sora-2" in result.output
    assert report.exists()


def test_exactly_one_of_a_target_or_the_demo(tmp_path):
    result, _ = chaos(tmp_path)
    assert result.exit_code == 2 and "give a config or script, or --demo" in result.output


# -- the recorder, on both faces -------------------------------------------------------------


def test_the_recorder_groups_attempts_into_calls_with_their_waits(face, clock):
    flaky = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1", retry=Retry(attempts=2, wait_initial=3, wait_jitter=0),
        mock=MockConfig(validate=False, order="sequence", responses=[
            MockResponse(error=RateLimitError("slow", retry_after=5)), MockResponse(error=HTTPError("down", status_code=503)),
            MockResponse(),
        ]),
        fallback_configs=[VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(validate=False))],
    )
    recorder = ChaosRecorder()
    with use_middleware(recorder.middleware):
        face.video(flaky, VideoGenerationRequest(prompt="a"))
        face.video(flaky, VideoGenerationRequest(prompt="b"))  # the sequence now serves its last: success
    first, second = recorder.calls()
    assert [(a.provider, a.status) for a in first.attempts] == [("fal", "failed"), ("fal", "failed"), ("openai", "success")]
    assert [round(end - start, 6) for start, end in first.waits()] == [5]
    assert first.outcome == "ok after fallback" and second.outcome == "ok"
    summary = summarize([first, second])
    assert (summary.attempts, summary.retries, summary.fallbacks, summary.faults, summary.waited) == (4, 1, 1, 2, 5)
    assert "attempts 4: 2 faults injected, 0 skipped, 1 retry, 1 fallback; waited 5.0 s" in summary.lines()[1]


def test_an_empty_run_still_renders():
    page = Page(render_html([], title="nothing"))
    assert page.having("svg") and not page.having("rect")
