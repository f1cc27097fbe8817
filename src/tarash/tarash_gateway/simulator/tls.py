"""TLS for the simulator's second listener: a certificate and key, given or made by a test CA.

Some vendor SDKs build `https://` URLs themselves (fal-client's queue host) or treat
only `https` outputs as files (Replicate's `FileOutput`), so the simulator can also
listen with TLS. `SimulatorTLS.generate` makes a throwaway certificate authority
with the `trustme` package and a certificate for `127.0.0.1` and `localhost`;
clients trust it through `SSL_CERT_FILE=<ca_file>`, which httpx, httpx2 and the SDKs
built on them read.

```python
tls = SimulatorTLS.generate(tmp_path)
with ProviderSimulator(tls=tls) as sim:
    env = {"SSL_CERT_FILE": str(tls.ca_file), ...}
```
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ValidationError

__all__ = ["SimulatorTLS"]

#: the names the generated certificate is valid for.
HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class SimulatorTLS:
    """The certificate the TLS listener presents, and the CA bundle that trusts it.

    Args:
        cert_file: PEM certificate chain of the server.
        key_file: PEM private key of the server.
        ca_file: PEM bundle a client trusts to reach the listener (`SSL_CERT_FILE`);
            `None` when the certificate chains to a CA the clients already trust.
    """

    cert_file: Path
    key_file: Path
    ca_file: Path | None = None

    @classmethod
    def generate(cls, directory: str | Path) -> SimulatorTLS:
        """Make a test CA and a server certificate in `directory` (created if missing).

        The CA bundle written there holds the test CA followed by certifi's public roots,
        so a process whose `SSL_CERT_FILE` points at it still reaches real HTTPS hosts.

        Raises:
            ValidationError: the `trustme` package is not installed.
        """
        try:
            import trustme
        except ImportError as error:
            raise ValidationError(
                "generating a test certificate needs the trustme package: pip install 'tarash-gateway[tls]'"
            ) from error
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="tarash provider simulator")
        issued = ca.issue_cert(*HOSTS)
        paths = cls(folder / "simulator-cert.pem", folder / "simulator-key.pem", folder / "simulator-ca.pem")
        paths.cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
        issued.private_key_pem.write_to_path(str(paths.key_file))
        assert paths.ca_file is not None
        paths.ca_file.write_bytes(ca.cert_pem.bytes() + b"\n" + _public_roots())
        return paths

    def server_context(self) -> ssl.SSLContext:
        """The server-side context of the listener (HTTP/1.1 only).

        Raises:
            ValidationError: the certificate or key cannot be loaded.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (OSError, ssl.SSLError) as error:
            raise ValidationError(
                f"cannot load the simulator's TLS certificate {self.cert_file} with key {self.key_file}: {error}"
            ) from error
        context.set_alpn_protocols(["http/1.1"])
        return context


def _public_roots() -> bytes:
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx installs certifi
        return b""
    return Path(certifi.where()).read_bytes()
