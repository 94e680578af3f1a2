// Log streams, for ADMINs who signed in themselves (the browser login, or an
// API key in development mode; a viewer token is refused with FORBIDDEN):
// the tenant's streams with their state and cursor; per stream pause or
// resume, replay from a sequence, a new signing secret, a test delivery,
// delete, and its recent deliveries; and a form for a new stream (a webhook's
// signing secret shown once).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

import { ApiError, gql } from '../api';
import { Time } from '../format';
import {
  CREATE_STREAM, type CreatedLogStream, DELETE_STREAM, LOG_STREAMS, type LogStream, PAUSE_STREAM, REPLAY_STREAM, RESUME_STREAM,
  ROTATE_STREAM_SECRET, STREAM_DELIVERIES, type StreamDelivery, type StreamDeliveryPage, type StreamFilter, type StreamKind, TEST_STREAM,
} from '../queries';
import { ShownOnce } from './ShownOnce';

/** Deliveries per page of a stream's recent deliveries. */
const DELIVERIES_PAGE = 20;

const message = (error: unknown) => (error as ApiError).message;

function Field({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** The filter as text: its set fields, or "every event". */
function filterText(filter: StreamFilter | null): string {
  const parts = Object.entries(filter ?? {})
    .filter(([, value]) => value !== null && value.length > 0)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
  return parts.length ? parts.join('; ') : 'every event';
}

/**
 * The question of an action that asks first, with Yes and Cancel. Focus
 * moves to Cancel; Esc cancels.
 */
function Ask({ question, yes, danger, onYes, onCancel }: {
  question: ComponentChildren; yes: string; danger?: boolean; onYes: () => void; onCancel: () => void;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <span class="confirm" onKeyDown={(event) => event.key === 'Escape' && onCancel()}>
      {question}{' '}
      <button type="button" class={danger ? 'danger' : undefined} onClick={onYes}>{yes}</button>{' '}
      <button type="button" class="secondary" ref={cancel} onClick={onCancel}>Cancel</button>
    </span>
  );
}

/** A button whose action asks first; focus returns to it when the question closes. */
function AskFirst({ label, name, question, yes, danger, onYes }: {
  label: string; name: string; question: ComponentChildren; yes: string; danger?: boolean; onYes: () => Promise<unknown>;
}) {
  const [asking, setAsking] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const closed = useRef(false);
  useEffect(() => {
    if (!asking && closed.current) button.current?.focus();
  }, [asking]);
  const close = () => {
    closed.current = true;
    setAsking(false);
  };
  if (asking) return <Ask question={question} yes={yes} danger={danger} onCancel={close} onYes={() => onYes().finally(close)} />;
  return (
    <button type="button" class="secondary" ref={button} aria-label={`${label} ${name}`} onClick={() => setAsking(true)}>{label}</button>
  );
}

function Deliveries({ stream, version }: { stream: LogStream; version: number }) {
  const [nodes, setNodes] = useState<StreamDelivery[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const latest = useRef(0);
  const load = async (after: string | null, shown: StreamDelivery[]) => {
    const generation = ++latest.current;
    try {
      const data = await gql<{ logStreamDeliveries: StreamDeliveryPage }>(STREAM_DELIVERIES, { id: stream.id, first: DELIVERIES_PAGE, after });
      if (generation !== latest.current) return;
      const page = data.logStreamDeliveries;
      setNodes([...shown, ...page.nodes]);
      setNext(page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null);
      setError('');
    } catch (failure) {
      if (generation === latest.current) setError(`Loading the deliveries failed: ${message(failure)}`);
    }
  };
  useEffect(() => void load(null, []), [version]);
  return (
    <>
      {nodes === null ? (
        !error && <p class="loading" role="status">Loading the deliveries…</p>
      ) : nodes.length === 0 ? (
        <p class="empty">No deliveries in the last 7 days.</p>
      ) : (
        <table class="deliveries">
          <caption class="visually-hidden">Recent deliveries of {stream.name}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th><th scope="col">Status</th><th scope="col">Test</th><th scope="col">Sequences</th><th scope="col">Events</th>
              <th scope="col">Attempt</th><th scope="col">Response</th><th scope="col">Latency</th><th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((delivery) => (
              <tr key={delivery.id}>
                <td class="date"><Time iso={delivery.createdAt} /></td>
                <td class={`outcome ${delivery.status === 'DELIVERED' ? 'success' : 'failure'}`}>{delivery.status}</td>
                <td>{delivery.test ? 'test' : <span class="none">—</span>}</td>
                <td class="mono">{delivery.firstSequence}–{delivery.lastSequence}</td>
                <td>{delivery.eventCount}</td>
                <td>{delivery.attempt}</td>
                <td>{delivery.responseStatus ?? <span class="none">—</span>}</td>
                <td>{delivery.latencyMs} ms</td>
                <td class="error-text">{delivery.error ?? <span class="none">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {error && <p role="alert" class="error">{error}</p>}
      {next && nodes && (
        <button type="button" class="secondary" onClick={() => load(next, nodes)}>Load more deliveries</button>
      )}
    </>
  );
}

function Stream({ stream, version, onChange, onDeleted }: {
  stream: LogStream; version: number; onChange: (stream: LogStream) => void; onDeleted: () => void;
}) {
  const [status, setStatus] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [replayAfter, setReplayAfter] = useState(String(stream.deliveredThroughSequence));
  const [askReplay, setAskReplay] = useState(false);
  const [open, setOpen] = useState(false);
  const [changes, setChanges] = useState(0);
  const replayButton = useRef<HTMLButtonElement>(null);
  const name = stream.name;
  const id = `stream-${stream.id}`;
  const paused = stream.state === 'PAUSED' || stream.state === 'DISABLED';

  /** Runs a mutation; its answer replaces the stream. */
  const change = async (what: string, mutation: string, variables: Record<string, unknown>, done: string) => {
    setStatus(`${what}…`);
    try {
      const data = await gql<Record<string, LogStream>>(mutation, { id: stream.id, ...variables });
      onChange(Object.values(data)[0]);
      setChanges((n) => n + 1);
      setStatus(done);
    } catch (error) {
      setStatus(`${what} failed: ${message(error)}`);
    }
  };
  const test = async () => {
    setStatus('Sending a test delivery…');
    try {
      const { testLogStream: d } = await gql<{ testLogStream: StreamDelivery }>(TEST_STREAM, { id: stream.id });
      const answer = d.responseStatus === null ? 'no HTTP answer' : `HTTP ${d.responseStatus}`;
      setStatus(`Test delivery: ${d.status}, ${answer}, ${d.latencyMs} ms${d.error ? `: ${d.error}` : '.'}`);
      setChanges((n) => n + 1);
    } catch (error) {
      setStatus(`The test delivery failed: ${message(error)}`);
    }
  };
  const rotate = async () => {
    setStatus('Rotating the signing secret…');
    try {
      const { rotateLogStreamSecret: created } = await gql<{ rotateLogStreamSecret: CreatedLogStream }>(ROTATE_STREAM_SECRET, { id: stream.id });
      onChange(created.logStream);
      setSecret(created.signingSecret);
      setStatus('New signing secret made.');
    } catch (error) {
      setStatus(`Rotating the secret failed: ${message(error)}`);
    }
  };
  const remove = async () => {
    setStatus('Deleting…');
    try {
      await gql(DELETE_STREAM, { id: stream.id });
      onDeleted();
    } catch (error) {
      setStatus(`Deleting the stream failed: ${message(error)}`);
    }
  };
  const closeReplay = () => {
    setAskReplay(false);
    replayButton.current?.focus();
  };
  const replay = async () => {
    await change('Replay', REPLAY_STREAM, { afterSequence: Number(replayAfter) }, `Replaying after sequence ${replayAfter}.`);
    closeReplay();
  };

  return (
    <article class="stream" aria-labelledby={id} data-stream-id={stream.id}>
      <h3 id={id}>{name}</h3>
      <dl class="fields">
        <Field name="Kind">{stream.kind}</Field>
        <Field name="URL"><span class="mono">{stream.url}</span></Field>
        <Field name="State">
          <span class="state" data-state={stream.state}>{stream.state}</span>
          {(stream.state === 'FAILING' || stream.state === 'DISABLED') && stream.lastError && <span class="last-error"> {stream.lastError}</span>}
          {stream.state === 'FAILING' && stream.nextAttemptAt && (
            <span class="none"> (attempt {stream.attempt + 1} at <Time iso={stream.nextAttemptAt} />)</span>
          )}
        </Field>
        <Field name="Delivered through">sequence {stream.deliveredThroughSequence}</Field>
        <Field name="Lag">{stream.lagEvents} events</Field>
        <Field name="Last delivery">{stream.lastDeliveryAt ? <Time iso={stream.lastDeliveryAt} /> : 'never'}</Field>
        {stream.lastGap && (
          <Field name="Last gap">
            sequences {stream.lastGap.fromSequence}–{stream.lastGap.toSequence} purged before delivery (<Time iso={stream.lastGap.at} />)
          </Field>
        )}
        <Field name="Events">{filterText(stream.filter)}, at most {stream.batchSize} a delivery</Field>
        {stream.kind === 'SPLUNK_HEC' && (
          <Field name="Splunk">index {stream.splunkIndex ?? "the token's default"}, sourcetype {stream.splunkSourcetype ?? 'auditlog:event'}</Field>
        )}
        {stream.previousSecretValidUntil && (
          <Field name="Previous secret">also signs until <Time iso={stream.previousSecretValidUntil} /></Field>
        )}
      </dl>
      <div class="stream-actions">
        {paused ? (
          <button type="button" aria-label={`Resume ${name}`} onClick={() => change('Resume', RESUME_STREAM, {}, 'Resumed.')}>Resume</button>
        ) : (
          <button type="button" class="secondary" aria-label={`Pause ${name}`} onClick={() => change('Pause', PAUSE_STREAM, {}, 'Paused.')}>Pause</button>
        )}
        <button type="button" class="secondary" aria-label={`Send test delivery to ${name}`} onClick={test}>Send test delivery</button>
        {stream.kind === 'WEBHOOK' && (
          <AskFirst
            label="Rotate secret"
            name={name}
            question={`Make a new signing secret for ${name}?`}
            yes="Yes, rotate"
            onYes={rotate}
          />
        )}
        <AskFirst label="Delete" name={name} question={`Delete ${name} and its delivery records?`} yes="Yes, delete" danger onYes={remove} />
      </div>
      <form
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          setAskReplay(true);
        }}
      >
        <label for={`${id}-replay`}>Replay after sequence</label>
        <input id={`${id}-replay`} type="number" min={0} step={1} required value={replayAfter} onInput={(e) => setReplayAfter((e.target as HTMLInputElement).value)} />
        <button type="submit" class="secondary" ref={replayButton} aria-label={`Replay ${name}`}>Replay</button>
        {askReplay && (
          <Ask
            question={`Deliver every matching event after sequence ${replayAfter} again?`}
            yes="Yes, replay"
            onYes={replay}
            onCancel={closeReplay}
          />
        )}
      </form>
      {secret && (
        <ShownOnce label={`New signing secret of ${name}`} secret={secret} onStatus={setStatus} onDone={() => setSecret(null)}>
          <p>
            For 24 hours{stream.previousSecretValidUntil && <> (until <Time iso={stream.previousSecretValidUntil} />)</>} every delivery carries
            both signatures, the old secret's and this one's: give the receiver this secret before then.
          </p>
        </ShownOnce>
      )}
      <p role="status" class="status">{status}</p>
      <details class="deliveries-menu" open={open} onToggle={(event) => setOpen((event.currentTarget as HTMLDetailsElement).open)}>
        <summary>Recent deliveries</summary>
        {open && <Deliveries stream={stream} version={version + changes} />}
      </details>
    </article>
  );
}

interface Draft {
  name: string; kind: StreamKind; url: string; batchSize: string; actions: string; outcome: '' | 'SUCCESS' | 'FAILURE';
  splunkToken: string; splunkIndex: string; splunkSourcetype: string; start: 'now' | 'beginning';
}

const NEW: Draft = {
  name: '', kind: 'WEBHOOK', url: '', batchSize: '100', actions: '', outcome: '', splunkToken: '', splunkIndex: '', splunkSourcetype: '', start: 'now',
};

/** The createLogStream variables of a draft. */
function createVariables(draft: Draft): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const actions = draft.actions.split(',').map((a) => a.trim()).filter(Boolean);
  if (actions.length) filter.actions = actions;
  if (draft.outcome) filter.outcome = draft.outcome;
  const input: Record<string, unknown> = { name: draft.name, kind: draft.kind, url: draft.url.trim(), batchSize: Number(draft.batchSize) };
  if (Object.keys(filter).length) input.filter = filter;
  if (draft.kind === 'SPLUNK_HEC') {
    input.splunkToken = draft.splunkToken;
    if (draft.splunkIndex.trim()) input.splunkIndex = draft.splunkIndex.trim();
    if (draft.splunkSourcetype.trim()) input.splunkSourcetype = draft.splunkSourcetype.trim();
  }
  return draft.start === 'beginning' ? { input, startAfterSequence: 0 } : { input };
}

function NewStream({ onCreated }: { onCreated: (stream: LogStream) => void }) {
  const [draft, setDraft] = useState<Draft>(NEW);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [status, setStatus] = useState('');
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const text = (field: keyof Draft) => ({
    value: draft[field],
    onInput: (event: Event) => set({ [field]: (event.target as HTMLInputElement).value }),
  });
  const splunk = draft.kind === 'SPLUNK_HEC';
  const create = async (event: Event) => {
    event.preventDefault();
    setStatus('Creating the stream…');
    try {
      const { createLogStream: result } = await gql<{ createLogStream: CreatedLogStream }>(CREATE_STREAM, createVariables(draft));
      onCreated(result.logStream);
      setCreated(result.signingSecret ? { name: result.logStream.name, secret: result.signingSecret } : null);
      setDraft(NEW);
      setStatus(`Stream ${result.logStream.name} created.`);
    } catch (error) {
      setStatus(`Creating the stream failed: ${message(error)}`);
    }
  };
  return (
    <section aria-labelledby="new-stream-title" class="card">
      <h2 id="new-stream-title">New stream</h2>
      <form class="stream-form" onSubmit={create}>
        <div class="field">
          <label for="stream-name">Name</label>
          <input id="stream-name" type="text" required maxLength={200} {...text('name')} />
        </div>
        <div class="field">
          <label for="stream-kind">Kind</label>
          <select id="stream-kind" aria-describedby="stream-kind-hint" value={draft.kind} onChange={(e) => set({ kind: (e.target as HTMLSelectElement).value as StreamKind })}>
            <option value="WEBHOOK">WEBHOOK</option>
            <option value="SPLUNK_HEC">SPLUNK_HEC</option>
          </select>
          <span id="stream-kind-hint" class="hint">{splunk ? 'A Splunk HTTP Event Collector' : 'Signed JSON batches (Standard Webhooks)'}</span>
        </div>
        <div class="field wide">
          <label for="stream-url">URL</label>
          <input id="stream-url" type="url" required aria-describedby="stream-url-hint" {...text('url')} />
          <span id="stream-url-hint" class="hint">
            {splunk ? "The collector's base URL, https://" : 'The receiving endpoint, https://'}
          </span>
        </div>
        <div class="field">
          <label for="stream-batch">Batch size</label>
          <input id="stream-batch" type="number" min={1} max={1000} step={1} required aria-describedby="stream-batch-hint" {...text('batchSize')} />
          <span id="stream-batch-hint" class="hint">Events per delivery, 1 to 1000</span>
        </div>
        <div class="field wide">
          <label for="stream-actions">Actions</label>
          <input id="stream-actions" type="text" autocomplete="off" aria-describedby="stream-actions-hint" {...text('actions')} />
          <span id="stream-actions-hint" class="hint">Comma separated, e.g. user.login, role.update; empty: every action</span>
        </div>
        <div class="field">
          <label for="stream-outcome">Outcome</label>
          <select id="stream-outcome" value={draft.outcome} onChange={(e) => set({ outcome: (e.target as HTMLSelectElement).value as Draft['outcome'] })}>
            <option value="">Any</option>
            <option value="SUCCESS">Success</option>
            <option value="FAILURE">Failure</option>
          </select>
        </div>
        {splunk && (
          <>
            <div class="field">
              <label for="stream-splunk-token">Splunk HEC token</label>
              <input id="stream-splunk-token" type="password" required autocomplete="new-password" {...text('splunkToken')} />
            </div>
            <div class="field">
              <label for="stream-splunk-index">Splunk index</label>
              <input id="stream-splunk-index" type="text" placeholder="the token's default" {...text('splunkIndex')} />
            </div>
            <div class="field">
              <label for="stream-splunk-sourcetype">Splunk sourcetype</label>
              <input id="stream-splunk-sourcetype" type="text" placeholder="auditlog:event" {...text('splunkSourcetype')} />
            </div>
          </>
        )}
        <fieldset class="start">
          <legend>Start from</legend>
          <div class="check">
            <input id="stream-start-now" type="radio" name="stream-start" checked={draft.start === 'now'} onChange={() => set({ start: 'now' })} />
            <label for="stream-start-now">Now: the events recorded from now on</label>
          </div>
          <div class="check">
            <input id="stream-start-beginning" type="radio" name="stream-start" checked={draft.start === 'beginning'} onChange={() => set({ start: 'beginning' })} />
            <label for="stream-start-beginning">The beginning: every event kept</label>
          </div>
        </fieldset>
        <button type="submit">Create stream</button>
      </form>
      {created && (
        <ShownOnce label={`Signing secret of ${created.name}`} secret={created.secret} onStatus={setStatus} onDone={() => setCreated(null)}>
          <p>The receiver checks each delivery's <code>webhook-signature</code> header with it (Standard Webhooks).</p>
        </ShownOnce>
      )}
      <p role="status" class="status">{status}</p>
    </section>
  );
}

type Loaded =
  | { state: 'loading' }
  | { state: 'ready'; streams: LogStream[] }
  | { state: 'refused' }
  | { state: 'error'; error: ApiError };

export function StreamsPage() {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [status, setStatus] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    let current = true;
    gql<{ logStreams: LogStream[] }>(LOG_STREAMS).then(
      (data) => {
        if (!current) return;
        setLoaded({ state: 'ready', streams: data.logStreams });
        if (attempt) setStatus('Streams refreshed.');
      },
      (error: ApiError) => {
        if (!current) return;
        if (error.code === 'FORBIDDEN') setLoaded({ state: 'refused' });
        else if (loaded.state === 'ready') setStatus(`Refreshing failed: ${error.message}`);
        else setLoaded({ state: 'error', error });
      },
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  if (loaded.state === 'refused')
    return (
      <div class="card" role="alert">
        <h1>Log streams</h1>
        <p>Log streams are managed by your organization's administrators.</p>
      </div>
    );
  if (loaded.state === 'error')
    return (
      <div class="error" role="alert">
        <p>{loaded.error.message}</p>
        <button type="button" onClick={() => setAttempt(attempt + 1)}>Retry</button>
      </div>
    );
  if (loaded.state === 'loading') return <p role="status">Loading log streams…</p>;
  const streams = loaded.streams;
  // Answers arrive one by one: each changes the list as it is by then.
  const update = (change: (streams: LogStream[]) => LogStream[]) =>
    setLoaded((now) => (now.state === 'ready' ? { state: 'ready', streams: change(now.streams) } : now));
  return (
    <section aria-labelledby="streams-title">
      <h1 id="streams-title">Log streams</h1>
      <p>A stream delivers the tenant's events, in order and each at least once, to a webhook or a Splunk HTTP Event Collector.</p>
      <section aria-labelledby="stream-list-title" class="card">
        <div class="toolbar">
          <h2 id="stream-list-title" tabIndex={-1} ref={heading}>Streams</h2>
          <button type="button" class="secondary" onClick={() => setAttempt(attempt + 1)}>Refresh</button>
        </div>
        {streams.length === 0 && <p class="empty">No streams yet.</p>}
        {streams.map((stream) => (
          <Stream
            key={stream.id}
            stream={stream}
            version={attempt}
            onChange={(changed) => update((now) => now.map((s) => (s.id === changed.id ? changed : s)))}
            onDeleted={() => {
              update((now) => now.filter((s) => s.id !== stream.id));
              setStatus(`Stream ${stream.name} deleted.`);
              heading.current?.focus();
            }}
          />
        ))}
        <p role="status" class="status">{status}</p>
      </section>
      <NewStream onCreated={(stream) => update((now) => [...now, stream])} />
    </section>
  );
}
