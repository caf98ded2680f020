// Control-plane benchmarks: alerts stored per second from 10 concurrent
// agents (separate processes, spool fsync on, store fsync on every commit),
// and the latency from a kernel event to its committed row.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../agent/agent';
import { benchCgroup } from './helpers';
import { initTrustDomain, issueSvid } from '../common/spiffe/local-ca';
import { startControlPlane } from '../controlplane/controlplane';
import type { StoredAlert } from '../controlplane/store';

export interface CpReport {
  ingest: { agents: number; alerts: number; seconds: number; alerts_per_s: number; duplicates: number };
  latency: { events: number; p50_ms: number; p99_ms: number; max_ms: number };
}

const TD = 'bench.vigil';

async function ingestBench(dir: string, certs: string, agents: number, perAgent: number): Promise<CpReport['ingest']> {
  const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'cp-ingest'), certsDir: certs, insecure: false, log: () => undefined });
  try {
    const script = path.join(__dirname, 'fake-agent.js');
    const t0 = process.hrtime.bigint();
    const children = [...Array(agents).keys()].map(
      (i) =>
        new Promise<void>((resolve, reject) => {
          const c = spawn(process.execPath, [script, `127.0.0.1:${cp.port}`, certs, `node-${i}`, String(perAgent), path.join(dir, `spool-${i}`)], {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fake agent ${i} exited ${code}`))));
        }),
    );
    const total = agents * perAgent;
    while (cp.store.countAlerts() < total) await new Promise((r) => setTimeout(r, 20));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    await Promise.all(children);
    const dup = (await cp.metrics.duplicates.get()).values[0]?.value ?? 0;
    return { agents, alerts: total, seconds: Math.round(secs * 1000) / 1000, alerts_per_s: Math.round(total / secs), duplicates: dup };
  } finally {
    await cp.close();
  }
}

async function latencyBench(dir: string, certs: string, events: number): Promise<CpReport['latency']> {
  const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'cp-latency'), certsDir: certs, insecure: false, log: () => undefined });
  // the moment each row is committed
  const committed = new Map<number, number>();
  const insert = cp.store.insertAlerts.bind(cp.store);
  cp.store.insertAlerts = (alerts: readonly StoredAlert[]): number => {
    const n = insert(alerts);
    const now = Date.now() * 1e6 + Number(process.hrtime.bigint() % 1_000_000n);
    for (const a of alerts) committed.set(a.sequence, now - Number(a.timeNs));
    return n;
  };
  const bench = benchCgroup('cp');
  const { rel, dir: cg } = bench;
  fs.writeFileSync(path.join(dir, 'ids.yaml'), `workloads:\n  - { spiffe_id: spiffe://${TD}/ns/b/sa/w, cgroups: [${rel}] }\n`);
  fs.writeFileSync(path.join(dir, 'rules.yaml'), `rules:\n  - { name: true-runs, workload: spiffe://${TD}/ns/b/sa/w, on: exec, match: { binary: { in: [/usr/bin/true] } } }\n`);
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const agent = await Agent.start({
    rules: [path.join(dir, 'rules.yaml')],
    identities: path.join(dir, 'ids.yaml'),
    output: 'json',
    node: 'bench-node',
    controlplane: { address: `127.0.0.1:${cp.port}`, insecure: false, certsDir: certs },
    stateDir: path.join(dir, 'agent-state'),
    out: quiet,
    err: quiet,
  });
  try {
    while (!agent.uplink?.stats.connected) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < events; i++) {
      await new Promise<void>((resolve) => {
        const c = spawn('/bin/sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec /usr/bin/true`], { stdio: 'ignore' });
        c.on('exit', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 10));
    }
    while (committed.size < events) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await agent.stop();
    await cp.close();
    await bench.remove();
  }
  const lat = [...committed.values()].map((ns) => ns / 1e6).sort((a, b) => a - b);
  const q = (p: number): number => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 100) / 100;
  return { events: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1) };
}

export async function runControlPlaneBench(opts: { quick?: boolean } = {}): Promise<CpReport> {
  if (process.geteuid?.() !== 0) throw new Error('the control plane benchmark needs root (the latency run uses the kernel probes)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-cp-'));
  try {
    const certs = path.join(dir, 'certs');
    await initTrustDomain(certs, TD);
    await issueSvid(certs, `spiffe://${TD}/vigil/controlplane`, 'controlplane');
    await issueSvid(certs, `spiffe://${TD}/vigil/agent/bench-node`, 'agent');
    for (let i = 0; i < 10; i++) await issueSvid(certs, `spiffe://${TD}/vigil/agent/node-${i}`, `agent-node-${i}`);
    const ingest = await ingestBench(dir, certs, 10, opts.quick ? 2000 : 20000);
    const latency = await latencyBench(dir, certs, opts.quick ? 50 : 300);
    return { ingest, latency };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function controlPlaneTable(r: CpReport): string {
  return [
    `alerts stored, ${r.ingest.agents} concurrent agents (own processes, spool fsync, store fsync per commit): ${r.ingest.alerts} in ${r.ingest.seconds} s = ${r.ingest.alerts_per_s} alerts/s`,
    `kernel event -> committed row (${r.latency.events} events): p50 ${r.latency.p50_ms} ms, p99 ${r.latency.p99_ms} ms, max ${r.latency.max_ms} ms`,
  ].join('\n');
}
