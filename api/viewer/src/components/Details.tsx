// The details of one event, loaded by its permalink query: every field, the
// payload as collapsible JSON, its link, and the Verify action. An unknown id and another
// tenant's id look the same: "Event not found".
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { ApiError, gql } from '../api';
import { Time } from '../format';
import { EVENT, type EventDetails } from '../queries';
import { Dialog } from './Dialog';
import { JsonView } from './Json';
import { Verification } from './Verification';

type Loaded = { state: 'loading' } | { state: 'found'; event: EventDetails } | { state: 'missing' } | { state: 'error'; error: ApiError };

function Field({ name, value }: { name: string; value: ComponentChildren }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{value ?? <span class="none">—</span>}</dd>
    </>
  );
}

function CopyLink({ id }: { id: string }) {
  const url = `${location.origin}/events/${encodeURIComponent(id)}`;
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Link copied.');
    } catch {
      setCopied('Copying is blocked here: select the link instead.');
    }
  };
  return (
    <p class="permalink">
      <button type="button" onClick={copy}>Copy link</button>{' '}
      <a href={url} class="permalink-url">{url}</a>{' '}
      <span role="status">{copied}</span>
    </p>
  );
}

export function Details({ id, onClose }: { id: string; onClose: () => void }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setLoaded({ state: 'loading' });
    gql<{ auditEvent: EventDetails | null }>(EVENT, { id })
      .then((data) => current && setLoaded(data.auditEvent ? { state: 'found', event: data.auditEvent } : { state: 'missing' }))
      .catch((error: ApiError) => {
        if (!current) return;
        // A malformed id is as unknown as any other.
        setLoaded(error.code === 'BAD_USER_INPUT' ? { state: 'missing' } : { state: 'error', error });
      });
    return () => {
      current = false;
    };
  }, [id, attempt]);

  if (loaded.state === 'loading')
    return (
      <Dialog title="Event" onClose={onClose}>
        <p role="status">Loading the event…</p>
      </Dialog>
    );
  if (loaded.state === 'missing')
    return (
      <Dialog title="Event not found" onClose={onClose}>
        <p>No event with this id is visible to you: it does not exist, has expired, or belongs elsewhere.</p>
      </Dialog>
    );
  if (loaded.state === 'error')
    return (
      <Dialog title="Event" onClose={onClose}>
        <p role="alert">{loaded.error.message}</p>
        <button type="button" onClick={() => setAttempt(attempt + 1)}>Retry</button>
      </Dialog>
    );
  const event = loaded.event;
  return (
    <Dialog title={event.action} onClose={onClose}>
      <CopyLink id={event.id} />
      <dl class="fields">
        <Field name="Id" value={event.id} />
        <Field name="Sequence" value={String(event.sequence)} />
        <Field name="Action" value={event.action} />
        <Field name="Outcome" value={event.outcome} />
        <Field name="Occurred" value={<Time iso={event.occurredAt} />} />
        <Field name="Received" value={<Time iso={event.receivedAt} />} />
        <Field name="User type" value={event.actor.type} />
        <Field name="User id" value={event.actor.actorId} />
        <Field name="User name" value={event.actor.name} />
        <Field name="User email" value={event.actor.email} />
        <Field name="Target type" value={event.target?.type} />
        <Field name="Target id" value={event.target?.targetId} />
        <Field name="Target name" value={event.target?.name} />
        <Field name="IP address" value={event.context.ipAddress} />
        <Field name="User agent" value={event.context.userAgent} />
        <Field name="Request id" value={event.context.requestId} />
      </dl>
      <Verification key={event.id} event={event} />
      <h3>Payload</h3>
      {event.payload === null || event.payload === undefined ? (
        <p class="none">No payload.</p>
      ) : (
        <div class="payload">
          <JsonView value={event.payload} />
        </div>
      )}
    </Dialog>
  );
}
