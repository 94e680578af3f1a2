// Prints the size of what the browser downloads, raw and gzip, and fails the
// build over the budget (issue 18: JavaScript at most 200 KB gzip).
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 200 * 1024;
const dir = new URL('../dist/assets/', import.meta.url);
let js = 0;
for (const name of readdirSync(dir).sort()) {
  const bytes = readFileSync(new URL(name, dir));
  const gzip = gzipSync(bytes, { level: 9 }).length;
  if (name.endsWith('.js')) js += gzip;
  console.log(`${name.padEnd(32)} ${String(bytes.length).padStart(8)} B  ${String(gzip).padStart(7)} B gzip`);
}
console.log(`JavaScript: ${(js / 1024).toFixed(1)} KB gzip (budget ${BUDGET / 1024} KB)`);
if (js > BUDGET) {
  console.error('over the JavaScript budget');
  process.exit(1);
}
