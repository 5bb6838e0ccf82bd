"""How the Kafka clients connect (libs.common.kafka.client_security): PLAINTEXT for the embedded
broker, SASL_SSL with SCRAM-SHA-512 as the service's KafkaUser in Kubernetes (deploy/k8s)."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from libs.common.kafka import client_security


def _ca(path) -> None:  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cluster-ca v0")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_plaintext_by_default(monkeypatch):
    monkeypatch.delenv("KAFKA_SECURITY_PROTOCOL", raising=False)
    assert client_security() == {}


async def test_sasl_ssl_as_the_services_user_checked_against_the_cluster_ca(monkeypatch, tmp_path):
    _ca(tmp_path / "ca.crt")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "lawline-intake")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "from-the-user-operator")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(tmp_path / "ca.crt"))
    options = client_security()
    context = options.pop("ssl_context")
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "lawline-intake",
        "sasl_plain_password": "from-the-user-operator",
    }
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "cluster-ca v0"),),)]
    # every client the services build takes these keywords (constructed, not connected)
    for client in (AIOKafkaProducer, AIOKafkaConsumer, AIOKafkaAdminClient):
        built = client(bootstrap_servers="127.0.0.1:1", **client_security())
        close = getattr(built, "stop", None) or built.close
        await close()


def test_a_misspelt_protocol_or_a_missing_password_is_refused(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL-SSL")
    with pytest.raises(ValueError, match="SASL-SSL"):
        client_security()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.delenv("KAFKA_SASL_PASSWORD", raising=False)
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "lawline-aid")
    with pytest.raises(KeyError, match="KAFKA_SASL_PASSWORD"):
        client_security()
