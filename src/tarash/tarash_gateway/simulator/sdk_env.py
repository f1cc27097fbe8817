"""The environment that points each vendor SDK at a running simulator, with no code change.

Every official SDK reads its host and key from environment variables; these are the
ones that reach the simulator. fal-client builds `https://` URLs itself and the
replicate SDK only turns `https` outputs into `FileOutput` objects, so those two go
through the TLS listener and need `SSL_CERT_FILE` to trust its test CA.

```python
with ProviderSimulator(tls=True) as sim:
    env = {**os.environ, **sdk_environment(sim, "fal-client")}
    subprocess.run([sys.executable, "app.py"], env=env, check=True)
```

google-genai on Vertex AI also needs credentials (`GOOGLE_APPLICATION_CREDENTIALS`)
and a project and location passed to `genai.Client(vertexai=True, ...)`: with a
custom base URL and only environment project/location, the SDK sends every request to
the bare base URL. See the "Record vendor SDK code" page.
"""

from __future__ import annotations

from typing import Protocol

from ..exceptions import ValidationError

__all__ = ["SDKS", "sdk_environment"]

#: the SDK names `sdk_environment` knows, as published on PyPI.
SDKS = ("azure-openai", "fal-client", "google-genai", "openai", "replicate", "runwayml")

_TLS_SDKS = ("fal-client", "replicate")


class _Simulator(Protocol):
    def base_url(self, provider: str, *, tls: bool = False) -> str: ...

    @property
    def ca_file(self) -> object: ...


def sdk_environment(sim: _Simulator, sdk: str, *, api_key: str = "sim-key") -> dict[str, str]:
    """Environment variables that make `sdk` talk to `sim`.

    Args:
        sim: a running `ProviderSimulator` (with `tls=` for
            fal-client and replicate).
        sdk: one of `SDKS`.
        api_key: the key the SDK sends (the simulator accepts any).

    Raises:
        ValidationError: an unknown SDK, or one that needs TLS on a simulator without it.
    """
    if sdk not in SDKS:
        raise ValidationError(f"no simulator environment for SDK {sdk!r}; known: {', '.join(SDKS)}")
    env: dict[str, str] = {}
    if sdk in _TLS_SDKS:
        if sim.ca_file is None:
            raise ValidationError(f"{sdk} needs the simulator's TLS listener: start it with tls=True (tarash simulate --tls)")
        env["SSL_CERT_FILE"] = str(sim.ca_file)
    if sdk == "fal-client":
        host = sim.base_url("fal", tls=True).split("://", 1)[1]
        env.update(FAL_KEY=api_key, FAL_RUN_HOST=f"{host}/run", FAL_QUEUE_RUN_HOST=host)
    elif sdk == "replicate":
        env.update(REPLICATE_API_TOKEN=api_key, REPLICATE_BASE_URL=sim.base_url("replicate", tls=True))
    elif sdk == "openai":
        env.update(OPENAI_API_KEY=api_key, OPENAI_BASE_URL=sim.base_url("openai"))
    elif sdk == "azure-openai":
        env.update(AZURE_OPENAI_API_KEY=api_key, AZURE_OPENAI_ENDPOINT=sim.base_url("openai"),
                   OPENAI_API_VERSION="2025-04-01-preview")
    elif sdk == "runwayml":
        env.update(RUNWAYML_API_SECRET=api_key, RUNWAYML_BASE_URL=sim.base_url("runway"))
    else:  # google-genai: the Gemini API by key; Vertex AI reads its own base URL
        base = sim.base_url("google")
        env.update(GOOGLE_API_KEY=api_key, GOOGLE_GEMINI_BASE_URL=base, GOOGLE_VERTEX_BASE_URL=base)
    return env
