// The list: newest first, 50 at a time with "Load more", the filters from the
// URL, the Live switch, the export buttons; a row opens its details.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { ApiError, gql } from '../api';
import { type Filters, filtersQuery, parseFilters, toEventFilter } from '../filters';
import { Time } from '../format';
import { startLive, type LiveState } from '../live';
import { EVENTS, FACETS, type EventRow } from '../queries';
import { navigate } from '../router';
import { Export } from './Export';
import { type Facets, FilterBar } from './FilterBar';

const PAGE = 50;

interface Page { auditEvents: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: EventRow[] } }

type Status = { state: 'loading' } | { state: 'ready' } | { state: 'error'; error: ApiError };

function Row({ event, isNew, onOpen }: { event: EventRow; isNew: boolean; onOpen: (id: string) => void }) {
  return (
    <tr
      tabIndex={0}
      class={isNew ? 'new' : undefined}
      data-event-id={event.id}
      onClick={() => onOpen(event.id)}
      onKeyDown={(e) => e.key === 'Enter' && onOpen(event.id)}
      aria-label={`${event.action} by ${event.actor.name ?? event.actor.actorId}`}
    >
      <td class="date">
        <Time iso={event.occurredAt} />
        {isNew && <span class="badge">new</span>}
      </td>
      <td class="action">{event.action}</td>
      <td class="user">
        <span class="name">{event.actor.name ?? event.actor.actorId}</span>
        <span class="id">{event.actor.actorId}</span>
      </td>
      <td class="target">
        {event.target ? (
          <>
            <span class="type">{event.target.type}</span>
            {event.target.targetId !== null && <span class="id">{event.target.targetId}</span>}
            {event.target.name !== null && <span class="name">{event.target.name}</span>}
          </>
        ) : (
          <span class="none">—</span>
        )}
      </td>
      <td class={`outcome ${event.outcome.toLowerCase()}`}>{event.outcome === 'SUCCESS' ? 'Success' : 'Failure'}</td>
    </tr>
  );
}

const LIVE_LABEL: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Connected',
  reconnecting: 'Connection lost, reconnecting…',
  'signed-out': 'Signed out',
};

export function EventsPage({ query }: { query: string }) {
  const filters = useMemo(() => parseFilters(query), [query]);
  const filter = useMemo(() => toEventFilter(filters), [filters]);
  const [rows, setRows] = useState<EventRow[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [status, setStatus] = useState<Status>({ state: 'loading' });
  const [loadingMore, setLoadingMore] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const [facets, setFacets] = useState<Facets | null>(null);
  const [live, setLive] = useState(false);
  const [liveState, setLiveState] = useState<LiveState | null>(null);
  const rowsRef = useRef<EventRow[]>([]);
  rowsRef.current = rows;

  useEffect(() => {
    gql<{ auditEventFacets: Facets }>(FACETS).then((data) => setFacets(data.auditEventFacets), () => setFacets(null));
  }, []);

  useEffect(() => {
    let current = true;
    setStatus({ state: 'loading' });
    gql<Page>(EVENTS, { first: PAGE, filter })
      .then((data) => {
        if (!current) return;
        setRows(data.auditEvents.nodes);
        setFresh(new Set());
        setCursor(data.auditEvents.pageInfo.endCursor);
        setMore(data.auditEvents.pageInfo.hasNextPage);
        setStatus({ state: 'ready' });
      })
      .catch((error: ApiError) => current && setStatus({ state: 'error', error }));
    return () => {
      current = false;
    };
  }, [filter, attempt]);

  // The live feed, for the current filter, once the first page is in.
  const ready = status.state === 'ready';
  useEffect(() => {
    if (!live || !ready) {
      setLiveState(null);
      return;
    }
    const seen = rowsRef.current.map((row) => row.sequence);
    return startLive({
      filter,
      afterSequence: seen.length ? Math.max(...seen) : null,
      onState: setLiveState,
      onEvent: (event) => {
        if (rowsRef.current.some((row) => row.id === event.id)) return;
        setRows((previous) => [event, ...previous]);
        setFresh((previous) => new Set(previous).add(event.id));
      },
    });
  }, [live, ready, filter]);

  const loadMore = async () => {
    setLoadingMore(true);
    try {
      const data = await gql<Page>(EVENTS, { first: PAGE, after: cursor, filter });
      const known = new Set(rowsRef.current.map((row) => row.id));
      setRows([...rowsRef.current, ...data.auditEvents.nodes.filter((row) => !known.has(row.id))]);
      setCursor(data.auditEvents.pageInfo.endCursor);
      setMore(data.auditEvents.pageInfo.hasNextPage);
    } catch (error) {
      setStatus({ state: 'error', error: error as ApiError });
    } finally {
      setLoadingMore(false);
    }
  };

  const change = (next: Filters) => navigate(`/${filtersQuery(next)}`);
  const open = (id: string) => navigate(`/events/${encodeURIComponent(id)}${query}`);

  return (
    <section aria-labelledby="list-title">
      <div class="toolbar">
        <h1 id="list-title">Audit log</h1>
        <div class="live">
          <input id="live-switch" type="checkbox" role="switch" checked={live} onChange={(event) => setLive((event.target as HTMLInputElement).checked)} />
          <label for="live-switch">Live</label>
          <span class="live-state" role="status" data-state={liveState ?? 'off'}>
            {liveState ? LIVE_LABEL[liveState] : ''}
          </span>
        </div>
        <Export filter={filter} />
      </div>
      <FilterBar filters={filters} facets={facets} onChange={change} />
      {status.state === 'error' ? (
        <div class="error" role="alert">
          <p>{status.error.code === 'UNAVAILABLE' ? 'The audit log is unavailable right now.' : status.error.message}</p>
          <button type="button" onClick={() => setAttempt(attempt + 1)}>Retry</button>
        </div>
      ) : status.state === 'loading' ? (
        <p role="status" class="loading">Loading events…</p>
      ) : rows.length === 0 ? (
        <p class="empty" role="status">No events match these filters.</p>
      ) : (
        <>
          <table class="events">
            <caption class="visually-hidden">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Action</th>
                <th scope="col">User</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((event) => (
                <Row key={event.id} event={event} isNew={fresh.has(event.id)} onOpen={open} />
              ))}
            </tbody>
          </table>
          {more && (
            <button type="button" class="load-more" disabled={loadingMore} onClick={loadMore}>
              {loadingMore ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </section>
  );
}
