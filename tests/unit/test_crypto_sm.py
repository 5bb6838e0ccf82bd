"""国密 mode (LAWLINE_CRYPTO=sm, GB/T 39786-2021): SM4-GCM for personal data, HMAC-SM3 blind
indexes and SM3 audit hashes, next to the AES-256-GCM / HMAC-SHA256 / SHA-256 default —
known-answer vectors, both modes' round trips and failures, and reads across a switch."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from libs.common import crypto
from libs.common.audit import chain
from libs.common.crypto import PiiCipher, PiiSettings, _Sm4Gcm, new_key_spec

ID = "14043019900101123X"
INDEX = base64.b64encode(b"i" * 32).decode()
AES1, AES2 = new_key_spec("k1"), new_key_spec("k2")
SM1, SM2 = new_key_spec("s1", sm4=True), new_key_spec("s2", sm4=True)


def aes() -> PiiCipher:
    return PiiCipher(AES1, INDEX, sm4_keys=SM1)


def sm() -> PiiCipher:
    return PiiCipher(AES1, INDEX, mode="sm", sm4_keys=SM1)


def test_sm3_known_answer_gb_t_32905():
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hashlib.new("sm3", b"abc").hexdigest() == expected  # what the code uses
    h = hashes.Hash(hashes.SM3())  # the other implementation agrees
    h.update(b"abc")
    assert h.finalize().hex() == expected


def test_sm4_known_answer_gb_t_32907():
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_known_answer_rfc_8998():
    """RFC 8998 Appendix A.1, through the wrapper the cipher uses (ciphertext || tag)."""
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    iv = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    pt = bytes.fromhex("".join(c * 16 for c in "ABCDEFEA"))
    out = _Sm4Gcm(key).encrypt(iv, pt, aad)
    assert out[:-16].hex().upper() == (
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    assert out[-16:].hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"
    assert _Sm4Gcm(key).decrypt(iv, out, aad) == pt


def test_hmac_sm3_agrees_with_a_second_implementation():
    h = crypto_hmac.HMAC(b"i" * 32, hashes.SM3())
    h.update(ID.encode())
    assert sm().blind_index(ID) == h.finalize().hex()
    assert aes().blind_index(ID) == hmac.new(b"i" * 32, ID.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("make, prefix", [(aes, "k1:"), (sm, "sm4:s1:")])
def test_round_trip_wrong_key_and_tamper_fail(make, prefix):
    c = make()
    token = c.encrypt(ID)
    assert token.startswith(prefix) and c.decrypt(token) == ID and ID not in token
    assert c.encrypt(ID) != token  # a fresh nonce each time
    other = PiiCipher(new_key_spec("k1"), INDEX, mode=c.mode, sm4_keys=new_key_spec("s1", sm4=True))
    with pytest.raises(InvalidTag):
        other.decrypt(token)  # same key id, another key
    ref, _, b64 = token.rpartition(":")
    blob = bytearray(base64.b64decode(b64))
    blob[-1] ^= 1  # the tag
    with pytest.raises(InvalidTag):
        c.decrypt(f"{ref}:{base64.b64encode(bytes(blob)).decode()}")
    blob[-1] ^= 1
    blob[13] ^= 1  # the ciphertext
    with pytest.raises(InvalidTag):
        c.decrypt(f"{ref}:{base64.b64encode(bytes(blob)).decode()}")
    kid, blob2 = c.encrypt_bytes(b"scan", b"doc-1|0")
    assert kid == c.current and len(kid) <= 32  # fits case_upload_chunks.key_id
    assert c.decrypt_bytes(kid, blob2, b"doc-1|0") == b"scan"
    with pytest.raises(InvalidTag):
        c.decrypt_bytes(kid, blob2, b"doc-1|1")  # a chunk moved elsewhere


def test_a_token_relabelled_to_another_algorithm_fails():
    c = PiiCipher(AES1, INDEX, mode="sm", sm4_keys="s1:" + base64.b64encode(b"x" * 16).decode())
    token = c.encrypt(ID)
    b64 = token.rpartition(":")[2]
    with pytest.raises((InvalidTag, KeyError)):
        c.decrypt(f"k1:{b64}")


def test_both_modes_read_each_others_tokens_and_rotate_moves_them():
    a_token, s_token = aes().encrypt(ID), sm().encrypt(ID)
    assert aes().decrypt(s_token) == ID and sm().decrypt(a_token) == ID  # mixed-mode reads
    c = sm()
    assert c.needs_rotation(a_token) and not c.needs_rotation(s_token)
    moved = c.rotate(a_token)
    assert moved.startswith("sm4:s1:") and c.decrypt(moved) == ID
    back = aes().rotate(s_token)  # and back again, if a deployment ever returns to AES
    assert back.startswith("k1:") and aes().decrypt(back) == ID
    rekeyed = PiiCipher(AES1, INDEX, mode="sm", sm4_keys=f"{SM2},{SM1}")  # SM4 key rotation
    assert rekeyed.rotate(s_token).startswith("sm4:s2:") and rekeyed.decrypt(s_token) == ID


def test_blind_indexes_differ_by_mode_and_lookups_match_either():
    a, s = aes(), sm()
    assert a.blind_index(ID) != s.blind_index(ID) and len(s.blind_index(ID)) == 64
    assert s.lookup_indexes(ID.lower()) == (s.blind_index(ID), a.blind_index(ID))
    assert a.lookup_indexes(ID) == (a.blind_index(ID), s.blind_index(ID))
    assert s.lookup_indexes(None) == ()


def test_settings_select_the_mode_and_refuse_unsafe_production(monkeypatch):
    monkeypatch.setenv("LAWLINE_CRYPTO", "sm")
    crypto.get_cipher.cache_clear()
    crypto.crypto_mode.cache_clear()
    try:
        assert crypto.get_cipher().current.startswith("sm4:") and crypto.crypto_mode() == "sm"
        assert chain.configured_hash() == "sm3"
        monkeypatch.setenv("LAWLINE_ENV", "production")
        monkeypatch.setenv("LAWLINE_PII_KEYS", "")
        monkeypatch.setenv("LAWLINE_PII_INDEX_KEY", INDEX)
        crypto.get_cipher.cache_clear()
        with pytest.raises(RuntimeError, match="SM4_KEYS"):
            crypto.get_cipher()
        monkeypatch.setenv("LAWLINE_PII_SM4_KEYS", SM1)
        crypto.get_cipher.cache_clear()
        assert crypto.get_cipher().current == "sm4:s1"
        monkeypatch.setenv("LAWLINE_CRYPTO", "des")
        crypto.crypto_mode.cache_clear()
        with pytest.raises(ValueError, match="LAWLINE_CRYPTO"):
            crypto.crypto_mode()
    finally:
        crypto.get_cipher.cache_clear()
        crypto.crypto_mode.cache_clear()
    with pytest.raises(ValueError, match="16 bytes"):
        PiiCipher(AES1, INDEX, mode="sm", sm4_keys=AES2)
    assert PiiSettings.model_fields["crypto"].default == "aes"  # the default stays AES / SHA-256


def test_audit_hashes_name_their_algorithm():
    entry = {"at": datetime(2026, 12, 3, tzinfo=UTC), "action": "x", "seq": 1, "prev_hash": chain.GENESIS}
    sha, sm3 = chain.entry_hash(entry), chain.entry_hash(entry, "sm3")
    assert sha == hashlib.sha256(chain.canonical(entry)).hexdigest() and chain.hash_algorithm(sha) == "sha256"
    assert sm3.startswith("sm3:") and len(sm3) <= 64 and chain.hash_algorithm(sm3) == "sm3"
    raw = base64.urlsafe_b64decode(sm3[4:] + "=")
    assert raw == hashlib.new("sm3", chain.canonical(entry)).digest()
