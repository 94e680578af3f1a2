// The signed-out page: the ways in this deployment offers.
import { useState } from 'preact/hooks';

import { isEmbedded, chooseApiKey } from '../auth';
import type { ViewerConfig } from '../config';

export function SignIn({ config, expired, reason }: { config: ViewerConfig; expired: boolean; reason: string }) {
  const [key, setKey] = useState('');
  const returnTo = location.pathname + location.search;
  const embedded = isEmbedded() && config.embedderOrigins.length > 0;
  return (
    <section class="signin card" aria-labelledby="signin-title">
      <h1 id="signin-title">{expired ? 'Signed out' : 'Sign in'}</h1>
      {expired && <p role="alert">Your session or token has ended{reason ? ` (${reason})` : ''}. Sign in again to go on.</p>}
      {embedded && <p role="status">Waiting for the embedding page to send a viewer token…</p>}
      {config.browserLogin && (
        <p>
          <a class="button" href={`/auth/login?return_to=${encodeURIComponent(returnTo)}`}>Sign in</a>
        </p>
      )}
      {config.mode === 'development' && (
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            if (key.trim()) chooseApiKey(key.trim());
          }}
        >
          <label for="api-key">API key (development mode)</label>
          <input id="api-key" type="password" autocomplete="off" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
          <button type="submit">Use key</button>
        </form>
      )}
      {!config.browserLogin && config.mode !== 'development' && !embedded && (
        <p>This deployment has no browser sign-in: open the viewer with a viewer token (<code>#token=…</code>).</p>
      )}
    </section>
  );
}
