// Settings of the tenant, for ADMINs: retention (plan, days, bounds; the days
// and legal hold are the tenant's to change on ENTERPRISE) and API keys (list,
// create with the secret shown once, revoke after a confirmation), and the
// way to the log streams (Streams.tsx).
import { useEffect, useState } from 'preact/hooks';

import { ApiError, gql } from '../api';
import { Time } from '../format';
import { type ApiKey, CREATE_KEY, type Retention, REVOKE_KEY, SET_LEGAL_HOLD, SET_RETENTION, SETTINGS, type Tenant } from '../queries';
import { linkClick } from '../router';
import { ShownOnce } from './ShownOnce';

function RetentionSettings({ tenant, onChange }: { tenant: Tenant; onChange: (retention: Retention) => void }) {
  const retention = tenant.retention;
  const enterprise = tenant.plan === 'ENTERPRISE';
  const [days, setDays] = useState(String(retention.days));
  const [reason, setReason] = useState(retention.legalHoldReason ?? '');
  const [status, setStatus] = useState('');
  const run = async (what: string, mutation: Promise<Retention>) => {
    setStatus(`${what}…`);
    try {
      onChange(await mutation);
      setStatus(`${what}: saved.`);
    } catch (error) {
      setStatus(`${what} failed: ${(error as ApiError).message}`);
    }
  };
  const saveDays = (event: Event) => {
    event.preventDefault();
    run('Retention', gql<{ setRetentionPolicy: Retention }>(SET_RETENTION, { days: Number(days) }).then((d) => d.setRetentionPolicy));
  };
  const toggleHold = (event: Event) => {
    event.preventDefault();
    const enabled = !retention.legalHold;
    run(
      enabled ? 'Legal hold on' : 'Legal hold off',
      gql<{ setLegalHold: Retention }>(SET_LEGAL_HOLD, { enabled, reason: enabled ? reason || null : null }).then((d) => d.setLegalHold),
    );
  };
  return (
    <section aria-labelledby="retention-title" class="card">
      <h2 id="retention-title">Retention</h2>
      <dl class="fields">
        <dt>Plan</dt>
        <dd>{tenant.plan}</dd>
        <dt>Kept for</dt>
        <dd class="retention-days">{retention.days} days</dd>
        <dt>Bounds</dt>
        <dd>
          {retention.minDays} to {retention.maxDays} days (plan default {retention.planDefault})
        </dd>
        <dt>Legal hold</dt>
        <dd class="legal-hold">{retention.legalHold ? `On${retention.legalHoldReason ? `: ${retention.legalHoldReason}` : ''}` : 'Off'}</dd>
        <dt>Oldest kept</dt>
        <dd>{retention.retainedSince ? <Time iso={retention.retainedSince} /> : 'everything (on hold)'}</dd>
      </dl>
      {enterprise ? (
        <>
          <form onSubmit={saveDays} class="inline">
            <label for="retention-days">Days to keep events</label>
            <input id="retention-days" type="number" min={retention.minDays} max={retention.maxDays} required value={days} onInput={(e) => setDays((e.target as HTMLInputElement).value)} />
            <button type="submit">Save retention</button>
          </form>
          <form onSubmit={toggleHold} class="inline">
            {!retention.legalHold && (
              <>
                <label for="hold-reason">Reason for the hold</label>
                <input id="hold-reason" type="text" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
              </>
            )}
            <button type="submit">{retention.legalHold ? 'Lift legal hold' : 'Put on legal hold'}</button>
          </form>
        </>
      ) : (
        <p>The TEAM plan's retention is fixed by the plan.</p>
      )}
      <p role="status" class="status">{status}</p>
    </section>
  );
}

function Keys({ keys, onChange, canManage }: { keys: ApiKey[]; onChange: () => void; canManage: boolean }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState('AUDITOR');
  const [secret, setSecret] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const data = await gql<{ createApiKey: { secret: string } }>(CREATE_KEY, { name, role });
      setSecret(data.createApiKey.secret);
      setName('');
      setStatus('Key created.');
      onChange();
    } catch (error) {
      setStatus(`Creating the key failed: ${(error as ApiError).message}`);
    }
  };
  const revoke = async (id: string) => {
    try {
      await gql(REVOKE_KEY, { id });
      setConfirming(null);
      setStatus('Key revoked.');
      onChange();
    } catch (error) {
      setStatus(`Revoking the key failed: ${(error as ApiError).message}`);
    }
  };
  return (
    <section aria-labelledby="keys-title" class="card">
      <h2 id="keys-title">API keys</h2>
      <table class="keys">
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id}>
              <td>{key.name}</td>
              <td>{key.role}</td>
              <td class="mono">{key.prefix}</td>
              <td><Time iso={key.createdAt} /></td>
              <td>{key.lastUsedAt ? <Time iso={key.lastUsedAt} /> : 'never'}</td>
              <td>
                {key.revokedAt ? (
                  'revoked'
                ) : !canManage ? (
                  'active'
                ) : confirming === key.id ? (
                  <span class="confirm">
                    Revoke {key.name}?{' '}
                    <button type="button" class="danger" onClick={() => revoke(key.id)}>Yes, revoke</button>{' '}
                    <button type="button" class="secondary" onClick={() => setConfirming(null)}>Cancel</button>
                  </span>
                ) : (
                  <button type="button" class="secondary" aria-label={`Revoke ${key.name}`} onClick={() => setConfirming(key.id)}>Revoke</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {canManage ? (
        <form onSubmit={create} class="inline">
          <label for="key-name">New key name</label>
          <input id="key-name" type="text" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <label for="key-role">Role</label>
          <select id="key-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            <option value="AUDITOR">AUDITOR</option>
            <option value="PUBLISHER">PUBLISHER</option>
            <option value="ADMIN">ADMIN</option>
          </select>
          <button type="submit">Create key</button>
        </form>
      ) : (
        <p>Keys are created and revoked with the tenant's own sign-in, not a viewer token.</p>
      )}
      {secret && <ShownOnce label="New key secret" secret={secret} onStatus={setStatus} onDone={() => setSecret(null)} />}
      <p role="status" class="status">{status}</p>
    </section>
  );
}

export function SettingsPage({ canManageKeys }: { canManageKeys: boolean }) {
  const [data, setData] = useState<{ tenant: Tenant; apiKeys: ApiKey[] } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    setError(null);
    gql<{ tenant: Tenant; apiKeys: ApiKey[] }>(SETTINGS).then(setData, setError);
  }, [attempt]);
  if (error)
    return (
      <div class="error" role="alert">
        <p>{error.message}</p>
        <button type="button" onClick={() => setAttempt(attempt + 1)}>Retry</button>
      </div>
    );
  if (!data) return <p role="status">Loading settings…</p>;
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings of {data.tenant.name}</h1>
      <RetentionSettings tenant={data.tenant} onChange={(retention) => setData({ ...data, tenant: { ...data.tenant, retention } })} />
      <Keys keys={data.apiKeys} canManage={canManageKeys} onChange={() => setAttempt(attempt + 1)} />
      <section aria-labelledby="streams-link-title" class="card">
        <h2 id="streams-link-title">Log streams</h2>
        <p>The tenant's events, delivered as they are recorded to a webhook or a Splunk HTTP Event Collector.</p>
        <p><a href="/settings/streams" onClick={(e) => linkClick(e, '/settings/streams')}>Manage log streams</a></p>
      </section>
    </section>
  );
}
