// Seeds a tenant for trying the viewer or measuring it: COUNT events (default
// 10,000) in batches of 1,000, spread over the last 30 days, 20 actions, 200
// users, 5% failures, and the demo events of lib.mjs on top.
//
//   AUDITLOG_URL=http://127.0.0.1:8080 AUDITLOG_KEY=alk_... [COUNT=100000] node seed.mjs
import { demoEvents, record } from './lib.mjs';

const url = process.env.AUDITLOG_URL ?? 'http://127.0.0.1:8080';
const key = process.env.AUDITLOG_KEY;
const count = Number(process.env.COUNT ?? 10_000);
if (!key) {
  console.error('set AUDITLOG_KEY to an ADMIN or PUBLISHER key');
  process.exit(2);
}
const resources = ['document', 'project', 'user', 'invoice', 'deploy'];
const verbs = ['create', 'update', 'delete', 'share'];
const now = Date.now();
const span = 30 * 24 * 3600_000 - 3600_000;
for (let done = 0; done < count; ) {
  const batch = [];
  for (let i = 0; i < Math.min(1000, count - done); i++) {
    const n = done + i;
    const resource = resources[n % resources.length];
    batch.push({
      action: `${resource}.${verbs[(n >> 2) % verbs.length]}`,
      actor: { type: 'USER', id: `u-${n % 200}`, name: `User ${n % 200}` },
      target: { type: resource, id: `${resource[0]}-${n % 997}` },
      outcome: n % 20 === 0 ? 'FAILURE' : 'SUCCESS',
      occurredAt: new Date(now - span + Math.floor((span * n) / count)).toISOString(),
      context: { ipAddress: `198.51.100.${n % 250}` },
      payload: { n },
    });
  }
  try {
    await record(url, key, batch);
  } catch (error) {
    // The plan's ingest quota: wait as told and send the batch again.
    const wait = /"retryAfterSeconds":(\d+)/.exec(String(error.message));
    if (!wait) throw error;
    await new Promise((resolve) => setTimeout(resolve, Number(wait[1]) * 1000));
    continue;
  }
  done += batch.length;
}
await record(url, key, demoEvents());
console.log(`recorded ${count} events and the demo events`);
