"""A real RFC 3161 time-stamping authority on loopback: `openssl ts -reply` behind a small HTTP server.

The certificates are made here (a root CA and a TSA certificate whose only extended key usage
is timeStamping, critical, as RFC 3161 requires); `openssl ts` signs the replies. The product's
client and verifier see only HTTP and DER, as with a public TSA.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class Authority:
    root_pem: bytes
    tsa_pem: bytes
    tsa_key_pem: bytes


def make_authority(common_name: str = "ccm test TSA") -> Authority:
    """A root CA and a TSA certificate it issued (ECDSA P-256, valid a day either side of now)."""
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name(f"{common_name} root")).issuer_name(_name(f"{common_name} root"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(root_key, hashes.SHA256()))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(root.subject)
           .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                        data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                        crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
           .sign(root_key, hashes.SHA256()))
    return Authority(root.public_bytes(serialization.Encoding.PEM), tsa.public_bytes(serialization.Encoding.PEM),
                     tsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


class LocalTSA:
    """`with LocalTSA() as tsa:` serves RFC 3161 over HTTP at `tsa.url`; `tsa.root_pem` is its trust root."""

    def __init__(self, authority: Authority | None = None) -> None:
        self.authority = authority or make_authority()
        self.root_pem = self.authority.root_pem
        self.requests = 0
        self._dir = tempfile.TemporaryDirectory(prefix="ccm-tsa-")
        folder = Path(self._dir.name)
        (folder / "tsa.pem").write_bytes(self.authority.tsa_pem)
        (folder / "tsa.key").write_bytes(self.authority.tsa_key_pem)
        (folder / "serial").write_text("01\n")
        (folder / "openssl.cnf").write_text(OPENSSL_CONFIG.format(dir=folder))
        self._folder = folder
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def reply(self, query: bytes) -> bytes:
        """Run `openssl ts -reply` on one DER query (serialised: openssl bumps one serial file)."""
        with self._lock:
            self.requests += 1
            (self._folder / "query.tsq").write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config", str(self._folder / "openssl.cnf"),
                            "-queryfile", str(self._folder / "query.tsq"), "-out", str(self._folder / "reply.tsr")],
                           check=True, capture_output=True)
            return (self._folder / "reply.tsr").read_bytes()

    def __enter__(self) -> LocalTSA:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(415, "expected application/timestamp-query")
                    return
                body = tsa.reply(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/tsr"

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._dir.cleanup()
