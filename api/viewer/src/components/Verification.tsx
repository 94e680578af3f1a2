// The "Verify" action of the details panel: the event's inclusion proof
// against the latest signed tree head, checked in this browser
// (../verify.js), and what was checked. On demand only: the list never
// verifies its rows.
import { useState } from 'preact/hooks';

import { ApiError, gql } from '../api';
import { Time } from '../format';
import { INCLUSION_PROOF, TREE_HEAD, type EventDetails, type InclusionProof, type SignedTreeHead } from '../queries';
import { verifyEvent, type Check, type Checks, type Jwk } from '../verify.js';

type Outcome =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'done'; head: SignedTreeHead; checks: Checks }
  | { state: 'pending'; head: SignedTreeHead | null }
  | { state: 'predates'; origin: number }
  | { state: 'error'; message: string };

const KEYS = '/.well-known/auditlog-keys.json';

async function publishedKeys(): Promise<Jwk[]> {
  let body: { keys?: Jwk[] };
  try {
    const response = await fetch(KEYS, { credentials: 'omit', headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`${response.status}`);
    body = await response.json();
  } catch {
    throw new ApiError(`The published keys (${KEYS}) cannot be read.`, 'UNAVAILABLE');
  }
  return Array.isArray(body.keys) ? body.keys : [];
}

async function check(event: EventDetails): Promise<Outcome> {
  const { auditLogTreeHead: head, tenant } = await gql<{ auditLogTreeHead: SignedTreeHead | null; tenant: { id: string } }>(TREE_HEAD);
  if (head && event.sequence <= head.treeOrigin) return { state: 'predates', origin: head.treeOrigin };
  if (!head || event.sequence > head.treeOrigin + head.treeSize) return { state: 'pending', head };
  const [{ auditEvent }, keys] = await Promise.all([
    gql<{ auditEvent: { inclusionProof: InclusionProof | null } | null }>(INCLUSION_PROOF, { id: event.id, treeSize: head.treeSize }),
    publishedKeys(),
  ]);
  const proof = auditEvent?.inclusionProof;
  if (!proof) return { state: 'pending', head };
  if (!crypto.subtle) return { state: 'error', message: 'This page has no WebCrypto (it needs a secure context).' };
  try {
    return { state: 'done', head, checks: await verifyEvent({ event, proof, head, tenantId: tenant.id, keys }) };
  } catch (error) {
    if (error instanceof DOMException && error.name === 'NotSupportedError')
      return { state: 'error', message: 'This browser cannot check Ed25519 signatures (WebCrypto).' };
    throw error;
  }
}

/** A hash shortened to its first 16 digits; the whole on hover and when expanded. */
function Hash({ hex }: { hex: string }) {
  return (
    <details class="hash">
      <summary title={hex}>
        <code>{hex.slice(0, 16)}…</code>
      </summary>
      <code class="full">{hex}</code>
    </details>
  );
}

const NAMES = {
  leaf: ["the event's contents match its leaf hash", "the event's contents do not match its leaf hash"],
  path: ['the proof leads to the signed root', 'the proof does not lead to the signed root'],
  signature: ["the head's signature verifies", "the head's signature does not verify"],
} as const;

function CheckItem({ check, names }: { check: Check; names: readonly [string, string] }) {
  return (
    <li class={check.ok ? 'passed' : 'failed'}>
      <strong>{check.ok ? 'Passed: ' : 'Failed: '}</strong>
      {check.ok ? names[0] : names[1]}. <span class="detail">{check.detail}</span>
    </li>
  );
}

function Result({ outcome, sequence }: { outcome: Outcome; sequence: number }) {
  switch (outcome.state) {
    case 'idle':
      return null;
    case 'checking':
      return <p>Checking the event against the signed tree head…</p>;
    case 'error':
      return <p class="error-text">Verification could not run: {outcome.message}</p>;
    case 'predates':
      return (
        <p>
          <span class="mark unknown">Not covered</span> This event predates the tenant's tree (sequence {sequence} ≤ tree
          origin {outcome.origin}): no signed head or proof covers it.
        </p>
      );
    case 'pending':
      return (
        <p>
          <span class="mark unknown">Cannot be verified yet</span> No signed tree head covers this event yet
          {outcome.head ? ` (the latest covers sequences up to ${outcome.head.treeOrigin + outcome.head.treeSize})` : ''}. Heads
          are signed every minute: verify again in a minute.
        </p>
      );
    case 'done': {
      const { head, checks } = outcome;
      const order = ['leaf', 'path', 'signature'] as const;
      const failed = order.find((name) => !checks[name].ok);
      return (
        <>
          {failed ? (
            <p>
              <span class="mark bad">Not verified</span> Failed check: {NAMES[failed][1]}.
            </p>
          ) : (
            <p>
              <span class="mark good">Verified</span> Checked in this browser: this event, as shown, is in the tenant's
              signed tree.
            </p>
          )}
          <dl class="fields">
            <dt>Tree size</dt>
            <dd>{String(head.treeSize)}</dd>
            <dt>Root hash</dt>
            <dd>
              <Hash hex={head.rootHash} />
            </dd>
            <dt>Key id</dt>
            <dd>
              <code>{head.keyId}</code>
            </dd>
            <dt>Signed</dt>
            <dd>
              <Time iso={head.timestamp} />
            </dd>
          </dl>
          <ol class="checks">
            {order.map((name) => (
              <CheckItem key={name} check={checks[name]} names={NAMES[name]} />
            ))}
          </ol>
        </>
      );
    }
  }
}

export function Verification({ event }: { event: EventDetails }) {
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });
  const verify = async () => {
    setOutcome({ state: 'checking' });
    try {
      setOutcome(await check(event));
    } catch (error) {
      setOutcome({ state: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  };
  return (
    <section class="verification" aria-labelledby="verification-title">
      <h3 id="verification-title">Integrity</h3>
      <p class="hint">
        Checks in this browser that the event is in the tenant's Merkle tree under the latest signed tree head, with the
        published key.
      </p>
      <button type="button" onClick={verify} disabled={outcome.state === 'checking'}>
        {outcome.state === 'idle' ? 'Verify' : 'Verify again'}
      </button>
      <div role="status" class="verdict">
        <Result outcome={outcome} sequence={event.sequence} />
      </div>
    </section>
  );
}
