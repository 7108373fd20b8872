"""RFC 9497's OPRF (mode 0x00, suite ristretto255-SHA512), on libsodium's ristretto255 group.

The registry keys every identifier with it: the holder of an identifier blinds it, the key process
evaluates the blinded element with its secret key, and the holder unblinds the answer into a
64-byte output that neither side could compute alone. The group arithmetic is libsodium's (through
pysodium); only the protocol's glue is written here.
"""

from __future__ import annotations

import hashlib
import hmac

import pysodium

from leaktrace.i18n import _

SUITE = b"ristretto255-SHA512"
MODE_OPRF = 0x00
CONTEXT = b"OPRFV1-" + bytes([MODE_OPRF]) + b"-" + SUITE
HASH_TO_GROUP_DST = b"HashToGroup-" + CONTEXT
HASH_TO_SCALAR_DST = b"HashToScalar-" + CONTEXT
DERIVE_KEY_PAIR_DST = b"DeriveKeyPair" + CONTEXT

ELEMENT_BYTES = pysodium.crypto_core_ristretto255_BYTES
SCALAR_BYTES = pysodium.crypto_core_ristretto255_SCALARBYTES
SEED_BYTES = SCALAR_BYTES  # RFC 9497 §3.2.1: a seed of Ns bytes
OUTPUT_BYTES = hashlib.sha512().digest_size
MAX_INPUT_BYTES = 0xFFFF  # inputs and infos are framed with a two-byte length

_UNIFORM_BYTES = pysodium.crypto_core_ristretto255_HASHBYTES  # 64: what from_hash and reduce take
_SHA512_BLOCK = hashlib.sha512().block_size  # RFC 9380's s_in_bytes for SHA-512
_IDENTITY = bytes(ELEMENT_BYTES)  # ristretto255's encodings are canonical: one for the identity
_ZERO_SCALAR = bytes(SCALAR_BYTES)


class InvalidInputError(ValueError):
    """An element, scalar or input the protocol refuses (RFC 9497's InvalidInputError)."""


class DeriveKeyPairError(ValueError):
    """No non-zero secret key came out of a seed and info in 256 tries (RFC 9497 §3.2.1)."""


def _i2osp(value: int, length: int) -> bytes:
    """RFC 8017's I2OSP: ``value`` as ``length`` big-endian bytes."""
    return value.to_bytes(length, "big")


def _check_length(data: bytes, place: str) -> None:
    """Refuses data too long for the protocol's two-byte length frame."""
    if len(data) > MAX_INPUT_BYTES:
        raise InvalidInputError(
            _("{place}: expected at most {limit} bytes").format(place=place, limit=MAX_INPUT_BYTES)
        )


def _framed(data: bytes, place: str) -> bytes:
    """``data`` after its two-byte length."""
    _check_length(data, place)
    return _i2osp(len(data), 2) + data


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1's expand_message_xmd with SHA-512: ``length`` uniform bytes from ``msg``."""
    blocks = -(-length // OUTPUT_BYTES)
    if blocks > 255 or length > 0xFFFF or len(dst) > 255:
        raise ValueError(_("expand_message_xmd: the length or the domain tag is too long"))
    dst_prime = dst + _i2osp(len(dst), 1)
    b_0 = hashlib.sha512(
        bytes(_SHA512_BLOCK) + msg + _i2osp(length, 2) + _i2osp(0, 1) + dst_prime
    ).digest()
    b_i = hashlib.sha512(b_0 + _i2osp(1, 1) + dst_prime).digest()
    uniform = [b_i]
    for i in range(2, blocks + 1):
        mixed = bytes(x ^ y for x, y in zip(b_0, b_i, strict=True))
        b_i = hashlib.sha512(mixed + _i2osp(i, 1) + dst_prime).digest()
        uniform.append(b_i)
    return b"".join(uniform)[:length]


def hash_to_group(msg: bytes) -> bytes:
    """RFC 9497 §4.1's HashToGroup: 64 uniform bytes mapped to a ristretto255 element."""
    uniform = expand_message_xmd(msg, HASH_TO_GROUP_DST, _UNIFORM_BYTES)
    return pysodium.crypto_core_ristretto255_from_hash(uniform)


def hash_to_scalar(msg: bytes, dst: bytes = HASH_TO_SCALAR_DST) -> bytes:
    """RFC 9497 §4.1's HashToScalar: 64 uniform bytes, little-endian, reduced modulo the order."""
    uniform = expand_message_xmd(msg, dst, _UNIFORM_BYTES)
    return pysodium.crypto_core_ristretto255_scalar_reduce(uniform)


def random_scalar() -> bytes:
    """A uniformly random non-zero scalar, from libsodium's generator."""
    return pysodium.crypto_core_ristretto255_scalar_random()


def derive_key_pair(seed: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9497 §3.2.1: the secret key and public element derived from a seed and key info."""
    if len(seed) != SEED_BYTES:
        raise InvalidInputError(
            _("{place}: expected {size} bytes").format(place="seed", size=SEED_BYTES)
        )
    derive_input = seed + _framed(info, "info")
    for counter in range(256):
        secret = hash_to_scalar(derive_input + _i2osp(counter, 1), DERIVE_KEY_PAIR_DST)
        if not hmac.compare_digest(secret, _ZERO_SCALAR):
            return secret, pysodium.crypto_scalarmult_ristretto255_base(secret)
    raise DeriveKeyPairError(_("no secret key can be derived from this seed and info"))


def _check_scalar(scalar: bytes, place: str) -> None:
    """Refuses anything but a canonical (reduced), non-zero 32-byte scalar, in constant time."""
    if (
        len(scalar) != SCALAR_BYTES
        or hmac.compare_digest(scalar, _ZERO_SCALAR)
        or not hmac.compare_digest(
            pysodium.crypto_core_ristretto255_scalar_reduce(scalar + bytes(SCALAR_BYTES)), scalar
        )
    ):
        raise InvalidInputError(
            _("{place}: expected a reduced, non-zero ristretto255 scalar of {size} bytes").format(
                place=place, size=SCALAR_BYTES
            )
        )


def _check_element(element: bytes, place: str) -> None:
    """Refuses anything but the canonical encoding of a ristretto255 element other than identity."""
    if len(element) != ELEMENT_BYTES or not pysodium.crypto_core_ristretto255_is_valid_point(
        element
    ):
        raise InvalidInputError(
            _("{place}: expected a ristretto255 element encoded in {size} bytes").format(
                place=place, size=ELEMENT_BYTES
            )
        )
    if element == _IDENTITY:
        raise InvalidInputError(_("{place}: the identity element is refused").format(place=place))


def _input_element(input_: bytes) -> bytes:
    """HashToGroup of an OPRF input, refusing the (negligibly likely) identity."""
    element = hash_to_group(input_)
    if element == _IDENTITY:
        raise InvalidInputError(_("{place}: hashes to the identity element").format(place="input"))
    return element


def _finalize_hash(input_: bytes, unblinded: bytes) -> bytes:
    """RFC 9497's output: SHA-512 over the framed input, the framed element and "Finalize"."""
    return hashlib.sha512(
        _framed(input_, "input") + _framed(unblinded, "element") + b"Finalize"
    ).digest()


def blind(input_: bytes, blind: bytes | None = None) -> tuple[bytes, bytes]:
    """Client: the blind (random unless given) and the blinded element to send for evaluation."""
    _check_length(input_, "input")
    if blind is None:
        blind = random_scalar()
    else:
        _check_scalar(blind, "blind")
    blinded = pysodium.crypto_scalarmult_ristretto255(blind, _input_element(input_))
    return blind, blinded


def blind_evaluate(secret_key: bytes, blinded_element: bytes) -> bytes:
    """Server: the blinded element multiplied by the secret key, for the client to unblind."""
    _check_scalar(secret_key, "secret_key")
    _check_element(blinded_element, "blinded_element")
    return pysodium.crypto_scalarmult_ristretto255(secret_key, blinded_element)


def finalize(input_: bytes, blind: bytes, evaluated_element: bytes) -> bytes:
    """Client: unblinds the evaluated element and hashes it with the input into the output."""
    _check_scalar(blind, "blind")
    _check_element(evaluated_element, "evaluated_element")
    inverse = pysodium.crypto_core_ristretto255_scalar_invert(blind)
    unblinded = pysodium.crypto_scalarmult_ristretto255(inverse, evaluated_element)
    return _finalize_hash(input_, unblinded)


def evaluate(secret_key: bytes, input_: bytes) -> bytes:
    """Server: the same output as blind, blind_evaluate and finalize, computed from the input."""
    _check_scalar(secret_key, "secret_key")
    _check_length(input_, "input")
    unblinded = pysodium.crypto_scalarmult_ristretto255(secret_key, _input_element(input_))
    return _finalize_hash(input_, unblinded)


def finalize_unblinded(input_: bytes, element: bytes) -> bytes:
    """The output from an element evaluated without a blind (the input's HashToGroup, sent by a
    holder that may see it, such as the operator's own ingest): RFC 9497's Finalize hash."""
    _check_element(element, "evaluated_element")
    return _finalize_hash(input_, element)
