// The person's side of the registry's OPRF (RFC 9497, mode 0x00, suite ristretto255-SHA512): the
// browser blinds an identifier, the server evaluates only the blinded element, and the browser
// unblinds the answer into the identifier's 64-byte keyed value: the identifier stays on the page.
// The protocol is @noble/curves' (vendor/, a pinned build: see vendor/README.md); this module only
// names the steps and matches the server's Python side (leaktrace.registry.oprf).

import { bytesToHex, hexToBytes, ristretto255_oprf } from './vendor/noble-curves-oprf.js';

const { oprf } = ristretto255_oprf;

/** Bytes in an OPRF output (SHA-512). */
export const OUTPUT_BYTES = 64;

export { bytesToHex, hexToBytes };

/** The UTF-8 bytes of a text, the form in which an identifier is blinded. */
export function textBytes(text) {
  return new TextEncoder().encode(text);
}

/**
 * Blinds an input: the secret blind (kept on the page) and the blinded element (sent to the
 * server). `rng(n)` gives n random bytes; crypto.getRandomValues unless given.
 */
export function blind(inputBytes, rng) {
  const { blind: scalar, blinded } = oprf.blind(inputBytes, rng);
  return { blind: scalar, blindedElement: blinded };
}

/** Unblinds the server's evaluated element into the input's 64-byte output. */
export function finalize(inputBytes, blindScalar, evaluatedElement) {
  return oprf.finalize(inputBytes, blindScalar, evaluatedElement);
}
