// A log-stream receiver for the tests: an HTTP server that records every
// delivery, checks webhook signatures with `standardwebhooks` (the Standard
// Webhooks authors' library), and answers as a script says.
//
//   node stream-receiver.mjs        prints `listening <port>` on stdout
//
// Control (JSON):
//   POST /_control {"secrets": ["whsec_…", …], "script": [step, …]}
//     secrets: what signatures are checked against (each one on its own);
//     script: answers for the next requests, one step each, then 204:
//       {"status": 500} | {"status": 429, "retryAfter": "1"} |
//       {"delayMs": 3000, "status": 204} | {"destroy": true} (drops the connection)
//   GET /_control/received  → {"requests": [...]} in arrival order, each
//     {path, headers, body (parsed JSON, or text), lines (NDJSON objects),
//      verified: [true|false per secret, checked when listed], status (what
//      was answered), at}
import http from "node:http";
import { Webhook } from "standardwebhooks";

let secrets = [];
let script = [];
const requests = [];

function verify(secret, raw, headers) {
  try {
    new Webhook(secret).verify(raw, {
      "webhook-id": headers["webhook-id"],
      "webhook-timestamp": headers["webhook-timestamp"],
      "webhook-signature": headers["webhook-signature"],
    });
    return true;
  } catch {
    return false;
  }
}

function parse(raw) {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function lines(raw) {
  return raw
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => parse(line));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const raw = Buffer.concat(chunks).toString("utf8");
    if (req.url === "/_control" && req.method === "POST") {
      const control = JSON.parse(raw || "{}");
      if (control.secrets) secrets = control.secrets;
      if (control.script) script = control.script;
      res.writeHead(204).end();
      return;
    }
    if (req.url === "/_control/received") {
      res.writeHead(200, { "content-type": "application/json" });
      // Signatures are checked now, against the secrets the test gave last:
      // a delivery that arrived before the test knew the secret still counts.
      const checked = requests.map(({ raw, ...request }) => ({
        ...request,
        verified: secrets.map((secret) => verify(secret, raw, request.headers)),
      }));
      res.end(JSON.stringify({ requests: checked }));
      return;
    }
    const step = script.shift() ?? {};
    const record = {
      path: req.url,
      headers: req.headers,
      body: parse(raw),
      lines: lines(raw),
      raw,
      status: step.destroy ? null : (step.status ?? 204),
      at: Date.now(),
    };
    requests.push(record);
    const answer = () => {
      if (step.destroy) {
        req.socket.destroy();
        return;
      }
      const headers = step.retryAfter ? { "retry-after": step.retryAfter } : {};
      res.writeHead(record.status, headers).end(step.body ?? "");
    };
    if (step.delayMs) setTimeout(answer, step.delayMs);
    else answer();
  });
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
