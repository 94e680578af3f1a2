// Checks one event's place in the tenant's signed Merkle tree, in the
// browser, as docs/verifying.md says: the leaf rebuilt from the event's
// fields (RFC 8785), the inclusion proof (RFC 9162 §2.1.3.2) and the head's
// Ed25519 signature, with WebCrypto only. Plain JavaScript with JSDoc types
// (type-checked by tsc) so that tests/browser's Node tests import it as it is.

/**
 * RFC 8785 (JCS): object keys sorted by UTF-16 code units (what
 * `Array.prototype.sort` compares), recursively, no whitespace; numbers and
 * strings as ECMAScript's `JSON.stringify` writes them (-0 is `0`).
 * @param {unknown} value
 * @returns {string}
 */
export function jcs(value) {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('JCS has no representation of a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (typeof value === 'object') {
    const object = /** @type {Record<string, unknown>} */ (value);
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${jcs(object[key])}`)
      .join(',')}}`;
  }
  throw new Error(`JCS has no representation of ${typeof value}`);
}

/**
 * RFC 3339 in UTC with exactly six fractional digits and `Z`, from what the
 * API prints (any number of digits, `Z` or an offset). Digits are kept as
 * text: a `Date` holds milliseconds only.
 * @param {string} text
 * @returns {string}
 */
export function micros(text) {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) throw new Error(`not an RFC 3339 time: ${text}`);
  const [, seconds, fraction = '', zone] = match;
  const utc = new Date(`${seconds}${zone}`).toISOString().slice(0, 19);
  return `${utc}.${fraction.padEnd(6, '0').slice(0, 6)}Z`;
}

/**
 * @typedef {{ id: string; sequence: number; action: string; outcome: string; occurredAt: string; receivedAt: string;
 *   actor: { type: string; actorId: string; name: string | null; email: string | null };
 *   target: { type: string; targetId: string | null; name: string | null } | null;
 *   context: { ipAddress: string | null; userAgent: string | null; requestId: string | null };
 *   payload?: unknown }} LeafEvent
 * @typedef {{ leafIndex: number; treeSize: number; leafHash: string; auditPath: string[] }} Proof
 * @typedef {{ treeSize: number; treeOrigin: number; rootHash: string; timestamp: string; keyId: string; signature: string }} Head
 * @typedef {{ kty?: string; crv?: string; x?: string; kid?: string }} Jwk
 */

/**
 * The leaf object of docs/verifying.md ("The leaf of an event").
 * @param {LeafEvent} event
 */
export function leafObject(event) {
  const { actor, target, context } = event;
  return {
    id: event.id.toLowerCase(),
    sequence: event.sequence,
    action: event.action,
    actor: { type: actor.type, id: actor.actorId, name: actor.name ?? null, email: actor.email ?? null },
    target: target ? { type: target.type, id: target.targetId ?? null, name: target.name ?? null } : null,
    outcome: event.outcome,
    context: { ipAddress: context.ipAddress ?? null, userAgent: context.userAgent ?? null, requestId: context.requestId ?? null },
    payload: event.payload ?? null,
    occurredAt: micros(event.occurredAt),
    receivedAt: micros(event.receivedAt),
  };
}

/** @param {string} hex */
function fromHex(hex) {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error('not lower-case hex');
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** @param {Uint8Array} bytes */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {string} text base64url, with or without padding */
function fromBase64url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '').padEnd(Math.ceil(text.length / 4) * 4, '='));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** @param {Uint8Array} bytes */
function toBase64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {Uint8Array[]} parts */
async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

/**
 * `SHA-256(0x00 ‖ JCS(leaf object))`, hex.
 * @param {LeafEvent} event
 */
export async function leafHash(event) {
  return toHex(await sha256(LEAF, new TextEncoder().encode(jcs(leafObject(event)))));
}

/**
 * RFC 9162 §2.1.3.2: the root the audit path leads to from `leaf` at
 * `index` in the tree of `size`, or null when the path does not fit the
 * tree. Integer arithmetic, not bit operators (sizes may pass 2^31).
 * @param {number} index
 * @param {number} size
 * @param {string} leaf hex
 * @param {string[]} path hex, from the leaf up
 * @returns {Promise<string | null>} hex
 */
export async function rootFromPath(index, size, leaf, path) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return null;
  let fn = index;
  let sn = size - 1;
  let r = fromHex(leaf);
  const odd = (/** @type {number} */ n) => n % 2 === 1;
  const half = (/** @type {number} */ n) => Math.floor(n / 2);
  for (const hex of path) {
    if (sn === 0) return null;
    const p = fromHex(hex);
    if (odd(fn) || fn === sn) {
      r = await sha256(NODE, p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await sha256(NODE, r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? toHex(r) : null;
}

/**
 * The bytes a head's signature covers: JCS of `{rootHash, tenantId,
 * timestamp, treeSize}`, with `treeOrigin` when it is not 0.
 * @param {Head} head
 * @param {string} tenantId
 */
export function headBytes(head, tenantId) {
  /** @type {Record<string, unknown>} */
  const statement = { rootHash: head.rootHash, tenantId: tenantId.toLowerCase(), timestamp: micros(head.timestamp), treeSize: head.treeSize };
  if (head.treeOrigin) statement.treeOrigin = head.treeOrigin;
  return new TextEncoder().encode(jcs(statement));
}

/**
 * The RFC 7638 thumbprint of an Ed25519 JWK.
 * @param {Jwk} jwk
 */
export async function thumbprint(jwk) {
  const members = jcs({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return toBase64url(await sha256(new TextEncoder().encode(members)));
}

/**
 * @typedef {{ ok: boolean; detail: string }} Check
 * @typedef {{ leaf: Check; path: Check; signature: Check; verified: boolean }} Checks
 */

/**
 * The three checks of an event against a head: its leaf hash, its audit
 * path to the head's root, and the head's signature by the published key
 * named by `keyId` (whose thumbprint must be that id). Throws only when the
 * browser cannot do Ed25519.
 * @param {{ event: LeafEvent; proof: Proof; head: Head; tenantId: string; keys: Jwk[] }} input
 * @returns {Promise<Checks>}
 */
export async function verifyEvent({ event, proof, head, tenantId, keys }) {
  const leaf = await leafHash(event);
  const leafCheck = leaf === proof.leafHash
    ? { ok: true, detail: `SHA-256(0x00 ‖ RFC 8785 of the event's fields) is the proof's leaf hash ${leaf}.` }
    : { ok: false, detail: `SHA-256(0x00 ‖ RFC 8785 of the event's fields) is ${leaf}; the proof's leaf hash is ${proof.leafHash}.` };

  const index = event.sequence - 1 - head.treeOrigin;
  /** @type {Check} */
  let path;
  if (proof.treeSize !== head.treeSize) path = { ok: false, detail: `The proof is for tree size ${proof.treeSize}, the head for ${head.treeSize}.` };
  else if (proof.leafIndex !== index) path = { ok: false, detail: `The proof is for leaf ${proof.leafIndex}; sequence ${event.sequence} is leaf ${index}.` };
  else {
    const root = await rootFromPath(index, head.treeSize, proof.leafHash, proof.auditPath);
    path = root === head.rootHash
      ? { ok: true, detail: `Leaf ${index} and its ${proof.auditPath.length} audit path hashes give the signed root of tree size ${head.treeSize} (RFC 9162 §2.1.3.2).` }
      : { ok: false, detail: root ? `The audit path gives the root ${root}, not the signed ${head.rootHash}.` : 'The audit path does not fit the tree.' };
  }

  /** @type {Check} */
  let signature;
  const jwk = keys.find((k) => k.kid === head.keyId && k.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.x === 'string');
  if (!jwk) signature = { ok: false, detail: `No published key has the head's key id ${head.keyId}.` };
  else if ((await thumbprint(jwk)) !== head.keyId) signature = { ok: false, detail: `The published key ${head.keyId} does not have that thumbprint (RFC 7638).` };
  else {
    const key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
    let ok = false;
    try {
      ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, fromBase64url(head.signature), headBytes(head, tenantId));
    } catch {
      ok = false; // a malformed signature
    }
    signature = ok
      ? { ok, detail: `Ed25519 over the head's tree size, root, time and tenant, by the published key ${head.keyId}.` }
      : { ok, detail: `The signature is not the key ${head.keyId}'s over the head's tree size, root, time and tenant.` };
  }
  return { leaf: leafCheck, path, signature, verified: leafCheck.ok && path.ok && signature.ok };
}
