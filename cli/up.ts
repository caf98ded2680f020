// `vigil up`: a control plane (SQLite under a data directory) and an agent
// with the default rule pack on this host, mTLS from a freshly minted local
// trust domain, metrics on documented ports, alerts shown live.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startControlPlane } from '../controlplane/controlplane';
import { pushPolicy } from './admin';
import { Agent } from '../agent/agent';
import { untilStopped } from './signals';
import { ArgReader } from './args';
import { splitHostPort } from '../common/host-port';
import { VigilError } from '../common/errors';
import { initTrustDomain, issueSvid } from '../common/spiffe/local-ca';
import { repoRoot } from '../common/repo';

export interface UpOptions {
  dataDir: string;
  listen: string;
  agentMetrics: string;
  cpMetrics: string;
  trustDomain: string;
  rules: string[];
  identities?: string;
  output: 'json' | 'text';
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  durationMs?: number;
}

export const UP_DEFAULTS = {
  dataDir: '/var/lib/vigil',
  listen: '127.0.0.1:7443',
  agentMetrics: '127.0.0.1:9464',
  cpMetrics: '127.0.0.1:9465',
  trustDomain: 'vigil.local',
};

/** Mint the local trust domain once; later runs reuse it. */
export async function ensureLocalTrustDomain(certs: string, trustDomain: string, node: string): Promise<void> {
  if (fs.existsSync(path.join(certs, 'ca.key'))) return;
  await initTrustDomain(certs, trustDomain);
  await issueSvid(certs, `spiffe://${trustDomain}/vigil/controlplane`, 'controlplane');
  await issueSvid(certs, `spiffe://${trustDomain}/vigil/admin/local`, 'admin');
  await issueSvid(certs, `spiffe://${trustDomain}/vigil/agent/${node}`, 'agent');
}

export async function runUp(o: UpOptions): Promise<void> {
  const node = os.hostname();
  const certs = path.join(o.dataDir, 'certs');
  await ensureLocalTrustDomain(certs, o.trustDomain, node);
  const log = (who: string) => (l: string) => o.err.write(`vigil ${who}: ${l}\n`);
  const cp = await startControlPlane({
    listen: o.listen,
    dataDir: path.join(o.dataDir, 'controlplane'),
    certsDir: certs,
    insecure: false,
    metricsAddress: o.cpMetrics,
    log: log('controlplane'),
  });
  const address = `127.0.0.1:${cp.port}`;
  const cpMetrics = `${o.cpMetrics.replace(/:\d+$/, '')}:${cp.metricsServer?.port ?? ''}`;
  o.err.write(`vigil up: control plane on ${o.listen.replace(/:\d+$/, '')}:${cp.port} (mTLS, trust domain ${cp.trustDomain}), metrics on ${cpMetrics}\n`);
  const admin = { address, certsDir: certs, insecure: false };
  const rules = o.rules.length ? o.rules : [path.join(repoRoot(), 'deploy', 'rules', 'default.yaml')];
  for (const r of rules) if (!fs.existsSync(r)) throw new VigilError('BAD_ARGUMENT', `vigil up: ${r} does not exist`);
  if (!cp.store.latestPolicy()) {
    const p = await pushPolicy(admin, rules);
    o.err.write(`vigil up: rules ${rules.join(', ')} signed as policy v${p.version}\n`);
  }
  let agent: Agent;
  try {
    agent = await Agent.start({
      rules,
      identities: o.identities,
      output: o.output,
      node,
      controlplane: { address, insecure: false, certsDir: certs },
      stateDir: path.join(o.dataDir, 'agent'),
      metricsAddress: o.agentMetrics,
      out: o.out,
      err: o.err,
    });
  } catch (err) {
    await cp.close();
    throw err;
  }
  o.err.write(
    `vigil up: running. Alerts below; also: bin/vigil alerts --controlplane ${address} --certs ${certs} --follow\n` +
      `vigil up: agent metrics http://${o.agentMetrics.replace(/:\d+$/, '')}:${agent.metricsServer?.port ?? ''}/metrics, control plane metrics http://${cpMetrics}/metrics\n`,
  );
  await untilStopped(o.durationMs);
  await agent.stop();
  o.err.write(agent.summary());
  await cp.close();
}

export function parseUpArgs(argv: string[]): Omit<UpOptions, 'out' | 'err'> {
  const o: Omit<UpOptions, 'out' | 'err'> = { ...UP_DEFAULTS, rules: [], output: 'json' };
  const r = new ArgReader(argv);
  for (let flag = r.next(); flag !== undefined; flag = r.next()) {
    switch (flag) {
      case '--data':
        o.dataDir = r.value();
        break;
      case '--listen':
        o.listen = r.value();
        splitHostPort(o.listen);
        break;
      case '--agent-metrics':
        o.agentMetrics = r.value();
        break;
      case '--controlplane-metrics':
        o.cpMetrics = r.value();
        break;
      case '--trust-domain':
        o.trustDomain = r.value();
        break;
      case '--rules':
        o.rules.push(...r.values());
        break;
      case '--identities':
        o.identities = r.value();
        break;
      case '--output':
        o.output = r.output();
        break;
      case '--duration':
        o.durationMs = r.seconds();
        break;
      default:
        r.unknown('up');
    }
  }
  return o;
}
