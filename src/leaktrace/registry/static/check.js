// A person's own check (the /check page): the identifier is normalised, blinded and finalized in
// this browser; the server evaluates only the blinded element and serves a bucket chosen by 16
// bits of the keyed value, padded to the size every bucket has; the match is made here.

import { blind, bytesToHex, finalize, hexToBytes, textBytes } from './oprf.js';

/** Bytes of a stored tag (the keyed value's prefix) and of a bucket's entry (tag, leak id). */
export const TAG_BYTES = 16;
export const ENTRY_BYTES = TAG_BYTES + 4;

const CHECK_CHARS = '10X98765432';
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

function checkChar(body) {
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += Number(body[i]) * WEIGHTS[i];
  return CHECK_CHARS[total % 11];
}

/**
 * The kind and normalised value of what a person typed (as leaktrace.pii normalises it: spaces,
 * dashes and dots dropped, full-width digits made ASCII, +86/0086/86 taken off a mobile, x made
 * X, a 15-digit ID made 18), or null when it is neither a resident ID nor a mobile number.
 */
export function normalise(raw) {
  const s = raw.normalize('NFKC').replace(/[\s\-.()]/g, '').toUpperCase();
  const mobile = /^(?:\+86|0086|86)?(1\d{10})$/.exec(s);
  if (mobile) return { kind: 'mobile', value: mobile[1] };
  if (/^\d{17}[\dX]$/.test(s)) {
    return checkChar(s) === s[17] ? { kind: 'resident_id', value: s } : null;
  }
  if (/^\d{15}$/.test(s)) {
    const body = `${s.slice(0, 6)}19${s.slice(6)}`;
    return { kind: 'resident_id', value: body + checkChar(body) };
  }
  return null;
}

/** The leak ids of the entries of a bucket's answer whose tag is ``tag``. */
export function matches(bucketBytes, tag) {
  const found = [];
  for (let at = 0; at + ENTRY_BYTES <= bucketBytes.length; at += ENTRY_BYTES) {
    let same = true;
    for (let i = 0; i < TAG_BYTES; i += 1) same = same && bucketBytes[at + i] === tag[i];
    if (same) {
      const v = new DataView(bucketBytes.buffer, bucketBytes.byteOffset + at + TAG_BYTES, 4);
      found.push(v.getUint32(0));
    }
  }
  return found;
}

class Refused extends Error {}

/** Which known leaks hold the normalised identifier: their metadata (an empty list: none). */
export async function check(kind, value) {
  const input = textBytes(`${kind}:${value}`);
  const { blind: scalar, blindedElement } = blind(input);
  const asked = await fetch('/api/v1/check/evaluate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    credentials: 'omit',
    body: JSON.stringify({ blinded: bytesToHex(blindedElement) }),
  });
  if (asked.status === 429) throw new Refused();
  if (!asked.ok) throw new Error(`evaluate: ${asked.status}`);
  const { evaluated } = await asked.json();
  const output = finalize(input, scalar, hexToBytes(evaluated));
  const tag = output.slice(0, TAG_BYTES);
  const bucket = (output[0] << 8) | output[1];
  // both fetched whatever the outcome, so that the traffic does not tell a hit from a miss
  const [entries, leaks] = await Promise.all([
    fetch(`/api/v1/check/buckets/${bucket}`, { credentials: 'omit' }),
    fetch('/api/v1/check/leaks', { credentials: 'omit' }),
  ]);
  if (!entries.ok || !leaks.ok) throw new Error('bucket or leaks');
  const ids = new Set(matches(new Uint8Array(await entries.arrayBuffer()), tag));
  const known = (await leaks.json()).leaks;
  return known.filter((leak) => ids.has(leak.id));
}

function show(outcome) {
  for (const el of document.querySelectorAll('#check-result [data-outcome]')) {
    el.hidden = el.dataset.outcome !== outcome;
  }
}

function listLeaks(found, words) {
  const lang = document.documentElement.lang === 'zh-CN' ? 'zh-CN' : 'en-GB';
  const day = new Intl.DateTimeFormat(lang, {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  });
  const body = document.getElementById('check-leaks');
  body.replaceChildren();
  for (const leak of found) {
    const row = document.createElement('tr');
    const cells = [
      day.format(new Date(leak.first_seen_at)),
      leak.sector ? (words.sectors[leak.sector] || leak.sector) : words.not_stated,
      leak.data_kinds.map((k) => words.kinds[k] || k).join(lang === 'zh-CN' ? '、' : ', '),
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    body.append(row);
  }
}

function start() {
  const form = document.getElementById('check-form');
  if (!form) return;
  const words = JSON.parse(document.getElementById('check-words').textContent);
  const field = document.getElementById('check-identifier');
  const button = document.getElementById('check-submit');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const identifier = normalise(field.value);
    if (!identifier) {
      show('invalid');
      return;
    }
    show('checking');
    button.disabled = true;
    try {
      const found = await check(identifier.kind, identifier.value);
      if (found.length) listLeaks(found, words);
      show(found.length ? 'hit' : 'miss');
    } catch (e) {
      show(e instanceof Refused ? 'limited' : 'failed');
    } finally {
      button.disabled = false;
    }
  });
  button.disabled = false;
  form.dataset.ready = 'true';
}

if (typeof document !== 'undefined') start();
