// Small servers of the browser tests: the SaaS page on its own origin and a
// TCP relay in front of the service that a test can cut (to drop the
// viewer's WebSocket) and hold closed (so it stays down for a while), for the
// embedding tests; a log stream's receiver, for the streams page.
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
}

/** Relays 127.0.0.1:`port` to `target` (a URL); `cut()` drops every connection. */
export async function startRelay(port, target) {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set();
  let holding = false;
  const server = createServer((client) => {
    if (holding) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(targetPort), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await listen(server, port);
  return {
    origin: `http://127.0.0.1:${port}`,
    /** Closes every open connection (HTTP keep-alive and WebSocket alike). */
    cut() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    /** While held, new connections are closed at once. */
    hold(on) {
      holding = on;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The SaaS's pages on 127.0.0.1:`port`: `pages` maps a path to its HTML. */
export async function startPages(port, pages) {
  const server = createHttpServer((request, response) => {
    const html = pages[new URL(request.url, 'http://x').pathname];
    response.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html ?? 'not found');
  });
  await listen(server, port);
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A webhook receiver on a free port of 127.0.0.1: answers 204 and keeps each request. */
export async function startReceiver() {
  const requests = [];
  const server = createHttpServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ method: request.method, path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString() });
      response.writeHead(204);
      response.end();
    });
  });
  await listen(server, 0);
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    /** `{ method, path, headers, body }`, in the order they came. */
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
