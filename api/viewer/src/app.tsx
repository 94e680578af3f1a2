// The app: who is signed in, the header, and the page of the current route.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { ApiError, gql, onSignedOut } from './api';
import { credential, forget, onCredentialChange, tellEmbedder } from './auth';
import { Details } from './components/Details';
import { EventsPage } from './components/EventsPage';
import { SettingsPage } from './components/Settings';
import { SignIn } from './components/SignIn';
import { StreamsPage } from './components/Streams';
import type { ViewerConfig } from './config';
import { CALLER, type Caller } from './queries';
import { linkClick, navigate, parseRoute, useLocation } from './router';

type Session =
  | { state: 'checking' }
  | { state: 'in'; caller: Caller; tenant: { slug: string; name: string } }
  | { state: 'out'; expired: boolean; reason: string }
  | { state: 'error'; error: ApiError };

export function App({ config }: { config: ViewerConfig }) {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const { path, query } = useLocation();
  // Only the answer to the latest check counts (a token may arrive while
  // the check of the cookie is still under way).
  const latest = useRef(0);
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const check = useCallback((quietly = false) => {
    const generation = ++latest.current;
    // A renewed token while signed in is checked without leaving the page.
    if (!quietly) setSession({ state: 'checking' });
    gql<{ caller: Caller; tenant: { slug: string; name: string } }>(CALLER, {}, false)
      .then((data) => generation === latest.current && setSession({ state: 'in', caller: data.caller, tenant: data.tenant }))
      .catch((error: ApiError) => {
        if (generation !== latest.current) return;
        if (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN') {
          // No cookie yet is "sign in"; a token or key that stopped working is "signed out".
          const expired = error.code === 'UNAUTHENTICATED' && credential().kind !== 'cookie';
          if (expired && credential().kind === 'token') tellEmbedder(config, { type: 'auditlog:token-expired' });
          setSession({ state: 'out', expired, reason: error.code === 'FORBIDDEN' ? error.message : '' });
        } else setSession({ state: 'error', error });
      });
  }, [config]);

  useEffect(() => {
    onSignedOut((error) => {
      setSession({ state: 'out', expired: true, reason: error.message });
      if (credential().kind === 'token') tellEmbedder(config, { type: 'auditlog:token-expired' });
    });
    const off = onCredentialChange(() => check(sessionRef.current.state === 'in'));
    tellEmbedder(config, { type: 'auditlog:ready' });
    return off;
  }, []);
  useEffect(() => check(), [attempt]);

  const signOut = async () => {
    const kind = credential().kind;
    if (kind === 'cookie') {
      await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-Requested-With': 'auditlog-viewer' } }).catch(() => undefined);
      setSession({ state: 'out', expired: false, reason: '' });
    } else forget();
  };

  if (session.state === 'checking') return <main class="boot"><p role="status">Loading the audit log…</p></main>;
  if (session.state === 'error')
    return (
      <main>
        <div class="error card" role="alert">
          <p>{session.error.code === 'UNAVAILABLE' ? 'The audit log is unavailable right now.' : session.error.message}</p>
          <button type="button" onClick={() => setAttempt(attempt + 1)}>Retry</button>
        </div>
      </main>
    );
  if (session.state === 'out')
    return (
      <main>
        <SignIn config={config} expired={session.expired} reason={session.reason} />
      </main>
    );

  const route = parseRoute(path);
  const admin = session.caller.role === 'ADMIN';
  const actor = session.caller.actor;
  return (
    <>
      <header class="top">
        <a class="brand" href="/" onClick={(e) => linkClick(e, '/')}>
          Audit log <span class="tenant">{session.tenant.name}</span>
        </a>
        <nav aria-label="Main">
          <a href="/" aria-current={route.page === 'list' ? 'page' : undefined} onClick={(e) => linkClick(e, '/')}>Events</a>
          {admin && (
            <a href="/settings" aria-current={route.page === 'settings' ? 'page' : undefined} onClick={(e) => linkClick(e, '/settings')}>Settings</a>
          )}
          {admin && (
            <a href="/settings/streams" aria-current={route.page === 'streams' ? 'page' : undefined} onClick={(e) => linkClick(e, '/settings/streams')}>Streams</a>
          )}
        </nav>
        <span class="who">
          {actor.name ?? actor.actorId} <span class="role">{session.caller.role}</span>
        </span>
        <button type="button" class="secondary" onClick={signOut}>Sign out</button>
      </header>
      <main>
        {route.page === 'settings' ? (
          admin ? (
            <SettingsPage canManageKeys={credential().kind !== 'token'} />
          ) : (
            <div class="card" role="alert">
              <h1>Not allowed</h1>
              <p>Settings are for the tenant's ADMINs.</p>
            </div>
          )
        ) : route.page === 'streams' ? (
          admin ? (
            <StreamsPage />
          ) : (
            <div class="card" role="alert">
              <h1>Not allowed</h1>
              <p>Log streams are for the tenant's ADMINs.</p>
            </div>
          )
        ) : route.page === 'unknown' ? (
          <div class="card">
            <h1>Page not found</h1>
            <p><a href="/" onClick={(e) => linkClick(e, '/')}>Back to the events</a></p>
          </div>
        ) : (
          <EventsPage query={query} />
        )}
        {route.page === 'event' && <Details id={route.id} onClose={() => navigate(`/${query}`)} />}
      </main>
    </>
  );
}
