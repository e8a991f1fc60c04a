"""TLS: verification is on by default, a custom SSLContext works, skipping it is explicit."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from sekoia_async import APIConnectionError, SekoiaClient

x509 = pytest.importorskip("cryptography.x509")
hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")

pytestmark = pytest.mark.anyio


def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_path, cert_path, key_path = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca_path.write_bytes(ca.public_bytes(pem))
    cert_path.write_bytes(cert.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path, list[str]]]:
    ca_path, cert_path, key_path = _certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"tls": True})

    app = web.Application()
    app.router.add_get("/v1/me", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"https://127.0.0.1:{port}", ca_path, seen
    finally:
        await runner.cleanup()


async def test_unknown_certificate_is_refused_and_not_retried(
    tls_server: tuple[str, Path, list[str]],
) -> None:
    base_url, _, seen = tls_server
    async with SekoiaClient("k", base_url=base_url, max_retries=3) as client:
        with pytest.raises(APIConnectionError, match="TLS") as info:
            await client.request("GET", "/v1/me")
    assert "ssl=SSLContext" in str(info.value)
    assert client.stats.requests == 1  # a certificate problem does not fix itself
    assert seen == []


async def test_custom_ca_via_ssl_context(tls_server: tuple[str, Path, list[str]]) -> None:
    base_url, ca_path, seen = tls_server
    context = ssl.create_default_context(cafile=str(ca_path))
    async with SekoiaClient("k", base_url=base_url, ssl=context) as client:
        assert await client.request("GET", "/v1/me") == {"tls": True}
    assert seen == ["/v1/me"]


async def test_insecure_skip_tls_verify_is_explicit_and_logged(
    tls_server: tuple[str, Path, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, _, _ = tls_server
    async with SekoiaClient("k", base_url=base_url, insecure_skip_tls_verify=True) as client:
        assert await client.request("GET", "/v1/me") == {"tls": True}
    assert "TLS certificate verification is DISABLED" in caplog.text
