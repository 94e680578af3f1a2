// The Live switch's subscription: graphql-ws over /graphql, resumed after a
// drop from the last sequence seen (the server replays what came meanwhile),
// each event delivered once (anything at or below the last sequence is dropped).
import { createClient, type Client } from 'graphql-ws';

import { ApiError, signedOut } from './api';
import { connectionParams } from './auth';
import { LIVE, type EventRow } from './queries';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'signed-out';

export interface LiveOptions {
  filter: Record<string, unknown> | null;
  /** Replay stored events after this sequence (null: from the next one). */
  afterSequence: number | null;
  onEvent: (event: EventRow) => void;
  onState: (state: LiveState) => void;
}

/** Close codes after which reconnecting with the same credential is useless. */
const CREDENTIAL_ENDED = new Set([4401, 4403]);

export function startLive(options: LiveOptions): () => void {
  let stopped = false;
  let client: Client | null = null;
  let last = options.afterSequence;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

  const retry = () => {
    if (stopped) return;
    client?.dispose();
    client = null;
    attempt += 1;
    options.onState('reconnecting');
    timer = setTimeout(connect, Math.min(500 * 2 ** (attempt - 1), 8000));
  };

  const connect = () => {
    if (stopped) return;
    options.onState(attempt ? 'reconnecting' : 'connecting');
    let ended = false;
    // The credential this connection was opened with: an open socket stays
    // bound to it, so when it ends after the page got a new one (a renewed
    // viewer token), the feed reconnects with the new one instead.
    const openedWith = JSON.stringify(connectionParams());
    // The socket closed or the subscription failed: sign out when the
    // credential ended, else reconnect and resume.
    const end = (reason: unknown) => {
      if (stopped || ended) return;
      ended = true;
      const close = reason as Partial<CloseEvent> | undefined;
      const renewed = JSON.stringify(connectionParams()) !== openedWith;
      if (typeof close?.code === 'number' && CREDENTIAL_ENDED.has(close.code) && !renewed) {
        options.onState('signed-out');
        signedOut(new ApiError(close.reason || 'signed out', 'UNAUTHENTICATED'));
        return;
      }
      retry();
    };
    const fresh = createClient({
      url,
      connectionParams,
      retryAttempts: 0,
      lazy: false,
      on: {
        connected: () => {
          attempt = 0;
          options.onState('live');
        },
        closed: (event) => end(event),
      },
    });
    client = fresh;
    fresh.subscribe<{ auditEventRecorded: EventRow }>(
      { query: LIVE, variables: { filter: options.filter, afterSequence: last } },
      {
        next: (result) => {
          if (result.errors?.length) {
            const code = (result.errors[0] as { extensions?: { code?: string } }).extensions?.code;
            if (code === 'UNAUTHENTICATED') {
              ended = true;
              options.onState('signed-out');
              signedOut(new ApiError(result.errors[0].message, code));
            }
            return;
          }
          const event = result.data?.auditEventRecorded;
          if (!event) return;
          if (last !== null && event.sequence <= last) return;
          last = event.sequence;
          options.onEvent(event);
        },
        error: (error) => end(error),
        complete: () => {
          // The server ended the subscription (e.g. SUBSCRIBER_LAGGED): resume.
          if (!ended && !stopped) {
            ended = true;
            retry();
          }
        },
      },
    );
  };

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    client?.dispose();
  };
}
