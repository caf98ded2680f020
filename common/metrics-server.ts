// Serves a prom-client registry on http://HOST:PORT/metrics (and /healthz).
import * as http from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function serveMetrics(registry: Registry, host: string, port: number, healthy: () => boolean = () => true): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    if (req.url === '/healthz' || req.url === '/readyz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503);
      res.end(ok ? 'ok\n' : 'not ready\n');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
