// Downloads the current filter through /export.csv or /export.ndjson. A link
// cannot carry an Authorization header, and a navigation carries neither
// `Origin` nor `X-Requested-With`, which the session cookie's CSRF check
// needs: so the viewer fetches the file and hands it over as a Blob URL.
import { useState } from 'preact/hooks';

import { authHeaders } from '../auth';

export function Export({ filter }: { filter: Record<string, unknown> | null }) {
  const [status, setStatus] = useState('');
  const download = async (format: 'csv' | 'ndjson') => {
    setStatus(`Exporting ${format.toUpperCase()}…`);
    const query = filter ? `?filter=${encodeURIComponent(JSON.stringify(filter))}` : '';
    try {
      const response = await fetch(`/export.${format}${query}`, { credentials: 'same-origin', headers: authHeaders() });
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { errors?: { message: string }[] } | null;
        setStatus(`Export failed: ${body?.errors?.[0]?.message ?? response.status}`);
        return;
      }
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `audit-log.${format}`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setStatus(`Exported ${format.toUpperCase()}.`);
    } catch {
      setStatus('Export failed: the service cannot be reached.');
    }
  };
  return (
    <div class="export">
      <button type="button" class="secondary" onClick={() => download('csv')}>Export CSV</button>
      <button type="button" class="secondary" onClick={() => download('ndjson')}>Export NDJSON</button>
      <span role="status">{status}</span>
    </div>
  );
}
