# SPDX-License-Identifier: Apache-2.0
"""Throwaway test PKI built with python3-cryptography: independent of the code under test."""
import datetime
import ipaddress
import os
from types import SimpleNamespace

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return str(path)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(cn="test-ca"):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca_key, ca_cert, cn, org=None, server=False, client=False, dns=(), ips=()):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(cn, org)).issuer_name(ca_cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    ekus = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + \
        ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
    if ekus:
        b = b.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


def make_test_pki(d):
    """CA, server cert for loopback, client cert (CN kubernetes-admin, O kubeadm:cluster-admins),
    and a second unrelated CA: all as PEM files in d."""
    ca_key, ca = make_ca("test-ca")
    other_key, other = make_ca("other-ca")
    s_key, s_cert = issue(ca_key, ca, "test-server", server=True, dns=["localhost"], ips=["127.0.0.1", "::1"])
    c_key, c_cert = issue(ca_key, ca, "kubernetes-admin", org="kubeadm:cluster-admins", client=True)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    return SimpleNamespace(
        dir=str(d),
        ca_cert=_write(os.path.join(d, "ca.crt"), pem(ca)),
        ca_key=_write(os.path.join(d, "ca.key"), _key_pem(ca_key), 0o600),
        other_ca_cert=_write(os.path.join(d, "other-ca.crt"), pem(other)),
        server_cert=_write(os.path.join(d, "server.crt"), pem(s_cert)),
        server_key=_write(os.path.join(d, "server.key"), _key_pem(s_key), 0o600),
        client_cert=_write(os.path.join(d, "client.crt"), pem(c_cert)),
        client_key=_write(os.path.join(d, "client.key"), _key_pem(c_key), 0o600),
    )
