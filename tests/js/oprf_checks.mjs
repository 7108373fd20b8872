// Runs leaktrace's static/oprf.js (passed in as a module) through RFC 9497's vectors and the steps
// of the cross-language round trip. Imported by Node (oprf_node.mjs) and by the page in headless
// Chromium (oprf_page.mjs), so that both run the very same checks.

// An rng that makes @noble/curves' blind() pick the given scalar: it reads 48 random bytes as a
// little-endian number r and takes (r mod (n - 1)) + 1, so r = blind - 1 gives the blind back.
function rngGiving(oprf, blindHex) {
  const bytes = oprf.hexToBytes(blindHex);
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  value -= 1n;
  return (n) => {
    const out = new Uint8Array(n);
    let rest = value;
    for (let i = 0; i < n; i++) {
      out[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    return out;
  };
}

/** Each vector's blind, blinded element and output, computed with the vector's Blind. */
export function vectors(oprf, suite) {
  return suite.vectors.map((v) => {
    const input = oprf.hexToBytes(v.Input);
    const { blind, blindedElement } = oprf.blind(input, rngGiving(oprf, v.Blind));
    const output = oprf.finalize(input, blind, oprf.hexToBytes(v.EvaluationElement));
    return {
      blind: oprf.bytesToHex(blind),
      blindedElement: oprf.bytesToHex(blindedElement),
      output: oprf.bytesToHex(output),
    };
  });
}

/** Each text blinded with a fresh random blind: its blind and blinded element. */
export function blindTexts(oprf, texts) {
  return texts.map((text) => {
    const { blind, blindedElement } = oprf.blind(oprf.textBytes(text));
    return { blind: oprf.bytesToHex(blind), blindedElement: oprf.bytesToHex(blindedElement) };
  });
}

/** Each text's output from its blind and the server's evaluated element. */
export function finalizeTexts(oprf, items) {
  return items.map(({ text, blind, evaluatedElement }) =>
    oprf.bytesToHex(
      oprf.finalize(oprf.textBytes(text), oprf.hexToBytes(blind), oprf.hexToBytes(evaluatedElement)),
    ),
  );
}

/** For each evaluated element (hex), whether finalize refused it. */
export function refusals(oprf, elements) {
  const blind = oprf.blind(oprf.textBytes('x')).blind;
  return elements.map((element) => {
    try {
      oprf.finalize(oprf.textBytes('x'), blind, oprf.hexToBytes(element));
      return false;
    } catch {
      return true;
    }
  });
}
