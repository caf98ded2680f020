// Control-plane benchmarks: alerts stored per second from 10 concurrent
// agents (separate processes, spool fsync on, store fsync on every commit),
// the latency from a kernel event to its committed row, and the latency from
// an alert raised to its committed row while 10 agent processes offer a
// fixed rate (5k, 15k, 30k alerts/s in all) for a few seconds. Agents are
// started, connected, then told to go together: the clock starts there.
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
  offered: OfferedResult[];
}

export interface OfferedResult {
  offered_per_s: number;
  seconds: number;
  alerts: number;
  stored_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

const TD = 'bench.vigil';

/** Start `agents` fake agents (bench/fake-agent.ts), all connected when this resolves: `go` starts them together. */
async function fakeAgents(port: number, certs: string, dir: string, agents: number, perAgent: number, rate: number): Promise<{ go: () => void; done: Promise<void[]> }> {
  const script = path.join(__dirname, 'fake-agent.js');
  const ready: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  const kids = [...Array(agents).keys()].map((i) => {
    const args = [script, `127.0.0.1:${port}`, certs, `node-${i}`, String(perAgent), path.join(dir, `spool-${rate}-${i}`), ...(rate > 0 ? [String(rate / agents)] : [])];
    const c = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    ready.push(new Promise<void>((resolve) => c.stdout.once('data', () => resolve())));
    done.push(new Promise<void>((resolve, reject) => c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fake agent ${i} exited ${code}`))))));
    return c;
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error('control-plane bench: the fake agents did not all connect in 120 s')), 120_000)));
  try {
    await Promise.race([Promise.all(ready), late]);
  } finally {
    clearTimeout(timer);
  }
  return { go: () => kids.forEach((c) => c.stdin.end('go\n')), done: Promise.all(done) };
}

async function ingestBench(dir: string, certs: string, agents: number, perAgent: number): Promise<CpReport['ingest']> {
  const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'cp-ingest'), certsDir: certs, insecure: false, log: () => undefined });
  try {
    const total = agents * perAgent;
    const fleet = await fakeAgents(cp.port, certs, dir, agents, perAgent, 0);
    // from the moment every agent is connected and told to go: process start-up is not ingestion
    const t0 = process.hrtime.bigint();
    fleet.go();
    await waitFor(`${total} alerts stored`, () => cp.store.countAlerts() >= total);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    await fleet.done;
    const dup = (await cp.metrics.duplicates.get()).values[0]?.value ?? 0;
    return { agents, alerts: total, seconds: Math.round(secs * 1000) / 1000, alerts_per_s: Math.round(total / secs), duplicates: dup };
  } finally {
    await cp.close();
  }
}

/** Wait until `done()`, or fail naming what did not happen (a benchmark never hangs). */
async function waitFor(what: string, done: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`control-plane bench: ${what} did not happen in ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function quantiles(ms: number[]): { p50_ms: number; p99_ms: number; max_ms: number } {
  const lat = [...ms].sort((a, b) => a - b);
  const q = (p: number): number => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 100) / 100;
  return { p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1) };
}

/** The moment each row is committed, less the time its alert was raised (ms), by node and sequence. */
function commitLatencies(store: { insertAlerts(alerts: readonly StoredAlert[]): number }): Map<string, number> {
  const committed = new Map<string, number>();
  const insert = store.insertAlerts.bind(store);
  store.insertAlerts = (alerts: readonly StoredAlert[]): number => {
    const n = insert(alerts);
    const now = performance.timeOrigin + performance.now();
    for (const a of alerts) {
      const k = `${a.node}/${a.sequence}`;
      if (!committed.has(k)) committed.set(k, now - Number(a.timeNs) / 1e6);
    }
    return n;
  };
  return committed;
}

/** 10 agent processes offering `rate` alerts/s in all for `seconds`: alert raised -> row committed. */
async function offeredBench(dir: string, certs: string, agents: number, rate: number, seconds: number): Promise<OfferedResult> {
  const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, `cp-offered-${rate}`), certsDir: certs, insecure: false, log: () => undefined });
  const committed = commitLatencies(cp.store);
  try {
    const perAgent = Math.round((rate / agents) * seconds);
    const total = perAgent * agents;
    const fleet = await fakeAgents(cp.port, certs, dir, agents, perAgent, rate);
    const t0 = process.hrtime.bigint();
    fleet.go();
    await waitFor(`${total} alerts offered at ${rate}/s committed`, () => committed.size >= total);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    await fleet.done;
    return { offered_per_s: rate, seconds, alerts: total, stored_per_s: Math.round(total / secs), ...quantiles([...committed.values()]) };
  } finally {
    await cp.close();
  }
}

async function latencyBench(dir: string, certs: string, events: number): Promise<CpReport['latency']> {
  const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'cp-latency'), certsDir: certs, insecure: false, log: () => undefined });
  const committed = commitLatencies(cp.store);
  const bench = benchCgroup('cp');
  const { rel, dir: cg } = bench;
  fs.writeFileSync(path.join(dir, 'ids.yaml'), `workloads:\n  - { spiffe_id: spiffe://${TD}/ns/b/sa/w, cgroups: [${rel}] }\n`);
  fs.writeFileSync(path.join(dir, 'rules.yaml'), `rules:\n  - { name: true-runs, workload: spiffe://${TD}/ns/b/sa/w, on: exec, match: { binary: { in: [/usr/bin/true] } } }\n`);
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  let said = '';
  const err = new Writable({
    write: (c: Buffer, _e, cb) => {
      said = (said + c.toString()).slice(-4000);
      cb();
    },
  });
  const agent = await Agent.start({
    rules: [path.join(dir, 'rules.yaml')],
    identities: path.join(dir, 'ids.yaml'),
    output: 'json',
    node: 'bench-node',
    controlplane: { address: `127.0.0.1:${cp.port}`, insecure: false, certsDir: certs },
    stateDir: path.join(dir, 'agent-state'),
    out: quiet,
    err,
    // every exec its own alert: flood control would fold the repeats of one rule into one
    flood: { windowMs: 0 },
  });
  try {
    await waitFor('the agent connected', () => agent.uplink?.stats.connected === true, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}; the agent said: ${said}`);
    });
    for (let i = 0; i < events; i++) {
      await new Promise<void>((resolve) => {
        const c = spawn('/bin/sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec /usr/bin/true`], { stdio: 'ignore' });
        c.on('exit', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor(`${events} kernel alerts committed`, () => committed.size >= events, 60_000).catch((e: Error) => {
      throw new Error(`${e.message} (${committed.size} were); the agent said: ${said}`);
    });
  } finally {
    await agent.stop();
    await cp.close();
    await bench.remove();
  }
  return { events: committed.size, ...quantiles([...committed.values()]) };
}

export async function runControlPlaneBench(opts: { quick?: boolean; only?: 'offered' } = {}): Promise<CpReport> {
  if (process.geteuid?.() !== 0) throw new Error('the control plane benchmark needs root (the latency run uses the kernel probes)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-cp-'));
  try {
    const certs = path.join(dir, 'certs');
    await initTrustDomain(certs, TD);
    await issueSvid(certs, `spiffe://${TD}/vigil/controlplane`, 'controlplane');
    await issueSvid(certs, `spiffe://${TD}/vigil/agent/bench-node`, 'agent');
    for (let i = 0; i < 10; i++) await issueSvid(certs, `spiffe://${TD}/vigil/agent/node-${i}`, `agent-node-${i}`);
    const none = { events: 0, p50_ms: 0, p99_ms: 0, max_ms: 0 };
    const say = (line: string): boolean => process.stderr.write(`  ${line}\n`);
    const ingest = opts.only ? { agents: 0, alerts: 0, seconds: 0, alerts_per_s: 0, duplicates: 0 } : await ingestBench(dir, certs, 10, opts.quick ? 2000 : 20000);
    say(`ingest: ${JSON.stringify(ingest)}`);
    const offered: OfferedResult[] = [];
    for (const rate of [5000, 15000, 30000]) {
      offered.push(await offeredBench(dir, certs, 10, rate, opts.quick ? 1 : 5));
      say(`offered: ${JSON.stringify(offered.at(-1))}`);
    }
    const latency = opts.only ? none : await latencyBench(dir, certs, opts.quick ? 50 : 300);
    return { ingest, latency, offered };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function controlPlaneTable(r: CpReport): string {
  return [
    `alerts stored, ${r.ingest.agents} concurrent agents (own processes, spool fsync, store fsync per commit): ${r.ingest.alerts} in ${r.ingest.seconds} s = ${r.ingest.alerts_per_s} alerts/s`,
    `kernel event -> committed row (${r.latency.events} events): p50 ${r.latency.p50_ms} ms, p99 ${r.latency.p99_ms} ms, max ${r.latency.max_ms} ms`,
    ...r.offered.map(
      (o) =>
        `offered ${o.offered_per_s} alerts/s by 10 agents for ${o.seconds} s (${o.alerts}): stored at ${o.stored_per_s}/s, alert -> committed row p50 ${o.p50_ms} ms, p99 ${o.p99_ms} ms, max ${o.max_ms} ms`,
    ),
  ].join('\n');
}
