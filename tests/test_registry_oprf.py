"""The registry's OPRF against RFC 9497's ristretto255-SHA512 OPRF-mode vectors (and RFC 9380's
expand_message_xmd(SHA-512) vectors under it); blinding is randomised while the output is not;
blind, blind_evaluate and finalize agree with evaluate for any input and key; invalid elements,
scalars and oversize inputs are refused with errors that carry no value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.registry import oprf

DATA = Path(__file__).parent / "data"
RFC9497 = json.loads((DATA / "rfc9497_oprf_ristretto255.json").read_text("utf-8"))
RFC9380 = json.loads((DATA / "rfc9380_expand_message_xmd_sha512.json").read_text("utf-8"))
SECRET_KEY = bytes.fromhex(RFC9497["skSm"])

FIELD_PRIME = 2**255 - 19
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493
# ristretto255's generator, as RFC 9496 §4.4 encodes it.
GENERATOR = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")


def le32(value: int) -> bytes:
    """A number as 32 little-endian bytes, the encoding of ristretto255's elements and scalars."""
    return value.to_bytes(32, "little")


# Encodings that are not ristretto255 elements (RFC 9496 §4.3.1's decoding refuses them): a field
# element at or above p (non-canonical), an odd one ("negative"), and bytes of the wrong length.
NOT_ELEMENTS = {
    "s = p, non-canonical": le32(FIELD_PRIME),
    "s = p + 2, non-canonical": le32(FIELD_PRIME + 2),
    "s = 1, negative": le32(1),
    "all bits set": b"\xff" * 32,
    "31 bytes": bytes.fromhex(RFC9497["vectors"][0]["BlindedElement"])[:31],
    "33 bytes": bytes.fromhex(RFC9497["vectors"][0]["BlindedElement"]) + b"\x00",
}
NOT_SCALARS = {
    "zero": bytes(32),
    "the group order, unreduced": le32(GROUP_ORDER),
    "all bits set": b"\xff" * 32,
    "31 bytes": bytes.fromhex(RFC9497["vectors"][0]["Blind"])[:31],
}


def test_the_suite_context_string() -> None:
    assert oprf.CONTEXT == b"OPRFV1-\x00-ristretto255-SHA512"
    assert oprf.HASH_TO_GROUP_DST.hex() == (
        "48617368546f47726f75702d4f50524656312d002d72697374726574746f3235352d534841353132"
    )


@pytest.mark.parametrize("vector", RFC9380["vectors"], ids=lambda v: f"{len(v['msg'])}B")
def test_expand_message_xmd_matches_rfc9380(vector: dict[str, Any]) -> None:
    uniform = oprf.expand_message_xmd(
        vector["msg"].encode("ascii"), RFC9380["DST"].encode("ascii"), vector["len_in_bytes"]
    )
    assert uniform.hex() == vector["uniform_bytes"]


def test_expand_message_xmd_refuses_oversize_requests() -> None:
    with pytest.raises(ValueError):
        oprf.expand_message_xmd(b"", b"tag", 255 * 64 + 1)
    with pytest.raises(ValueError):
        oprf.expand_message_xmd(b"", b"t" * 256, 64)


def test_derive_key_pair_matches_rfc9497() -> None:
    secret, public = oprf.derive_key_pair(
        bytes.fromhex(RFC9497["Seed"]), bytes.fromhex(RFC9497["KeyInfo"])
    )
    assert secret.hex() == RFC9497["skSm"]
    assert oprf.blind_evaluate(secret, GENERATOR) == public  # pkS = skS·G
    assert secret != oprf.derive_key_pair(bytes.fromhex(RFC9497["Seed"]), b"another key")[0]


def test_derive_key_pair_refuses_a_short_seed() -> None:
    with pytest.raises(oprf.InvalidInputError, match="seed"):
        oprf.derive_key_pair(bytes(31), b"")


@pytest.mark.parametrize("vector", RFC9497["vectors"], ids=lambda v: v["Input"][:8])
def test_rfc9497_oprf_vectors(vector: dict[str, str]) -> None:
    input_ = bytes.fromhex(vector["Input"])
    given_blind = bytes.fromhex(vector["Blind"])
    blind, blinded = oprf.blind(input_, given_blind)
    assert blind == given_blind
    assert blinded.hex() == vector["BlindedElement"]
    evaluated = oprf.blind_evaluate(SECRET_KEY, blinded)
    assert evaluated.hex() == vector["EvaluationElement"]
    assert oprf.finalize(input_, blind, evaluated).hex() == vector["Output"]
    assert oprf.evaluate(SECRET_KEY, input_).hex() == vector["Output"]


def test_blinding_is_randomised_and_the_output_is_not() -> None:
    input_ = b"13812345678"
    first_blind, first_blinded = oprf.blind(input_)
    second_blind, second_blinded = oprf.blind(input_)
    assert first_blind != second_blind
    assert first_blinded != second_blinded
    first = oprf.finalize(input_, first_blind, oprf.blind_evaluate(SECRET_KEY, first_blinded))
    second = oprf.finalize(input_, second_blind, oprf.blind_evaluate(SECRET_KEY, second_blinded))
    assert first == second == oprf.evaluate(SECRET_KEY, input_)
    assert len(first) == oprf.OUTPUT_BYTES


def test_random_scalars_are_reduced_and_distinct() -> None:
    scalars = {oprf.random_scalar() for _ in range(64)}
    assert len(scalars) == 64
    for scalar in scalars:
        assert 0 < int.from_bytes(scalar, "little") < GROUP_ORDER


def test_the_output_depends_on_the_key_and_the_input() -> None:
    other_key, _ = oprf.derive_key_pair(bytes(32), b"another key")
    assert oprf.evaluate(SECRET_KEY, b"a") != oprf.evaluate(other_key, b"a")
    assert oprf.evaluate(SECRET_KEY, b"a") != oprf.evaluate(SECRET_KEY, b"b")


@settings(max_examples=200, deadline=None)
@given(input_=st.binary(max_size=300), seed=st.binary(min_size=32, max_size=32))
def test_the_blinded_protocol_equals_the_full_evaluation(input_: bytes, seed: bytes) -> None:
    secret, _ = oprf.derive_key_pair(seed, b"leaktrace test")
    blind, blinded = oprf.blind(input_)
    output = oprf.finalize(input_, blind, oprf.blind_evaluate(secret, blinded))
    assert output == oprf.evaluate(secret, input_)


@pytest.mark.parametrize("element", NOT_ELEMENTS.values(), ids=NOT_ELEMENTS.keys())
def test_an_invalid_element_is_refused(element: bytes) -> None:
    with pytest.raises(oprf.InvalidInputError, match="blinded_element") as raised:
        oprf.blind_evaluate(SECRET_KEY, element)
    assert element.hex() not in str(raised.value)
    with pytest.raises(oprf.InvalidInputError, match="evaluated_element"):
        oprf.finalize(b"x", oprf.random_scalar(), element)


def test_the_identity_is_refused() -> None:
    identity = bytes(32)
    with pytest.raises(oprf.InvalidInputError, match="identity"):
        oprf.blind_evaluate(SECRET_KEY, identity)
    with pytest.raises(oprf.InvalidInputError, match="identity"):
        oprf.finalize(b"x", oprf.random_scalar(), identity)


def test_invalid_input_is_a_value_error() -> None:
    assert issubclass(oprf.InvalidInputError, ValueError)
    assert issubclass(oprf.DeriveKeyPairError, ValueError)


@pytest.mark.parametrize("scalar", NOT_SCALARS.values(), ids=NOT_SCALARS.keys())
def test_an_invalid_scalar_is_refused(scalar: bytes) -> None:
    blinded = bytes.fromhex(RFC9497["vectors"][0]["BlindedElement"])
    with pytest.raises(oprf.InvalidInputError, match="blind"):
        oprf.blind(b"x", scalar)
    with pytest.raises(oprf.InvalidInputError, match="secret_key"):
        oprf.blind_evaluate(scalar, blinded)
    with pytest.raises(oprf.InvalidInputError, match="secret_key"):
        oprf.evaluate(scalar, b"x")
    with pytest.raises(oprf.InvalidInputError, match="blind"):
        oprf.finalize(b"x", scalar, blinded)


def test_an_input_too_long_for_its_frame_is_refused() -> None:
    longest = b"1" * oprf.MAX_INPUT_BYTES
    blind, blinded = oprf.blind(longest)
    assert oprf.finalize(longest, blind, oprf.blind_evaluate(SECRET_KEY, blinded)) == (
        oprf.evaluate(SECRET_KEY, longest)
    )
    too_long = longest + b"1"
    for call in (
        lambda: oprf.blind(too_long),
        lambda: oprf.evaluate(SECRET_KEY, too_long),
        lambda: oprf.finalize(too_long, blind, blinded),
    ):
        with pytest.raises(oprf.InvalidInputError, match="input") as raised:
            call()
        assert "1111" not in str(raised.value)
