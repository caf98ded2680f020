// The `vigil` command line.
import * as path from 'node:path';
import { CpError } from '../controlplane/errors';
import { startControlPlane } from '../controlplane/controlplane';
import { auditExport, auditVerify } from './audit';
import { listAgents, listAlerts, pushPolicy, type AdminLink } from './admin';
import { parseAgentArgs, runAgent } from './agent';
import { untilStopped } from './signals';
import { splitHostPort } from '../common/host-port';
import { VigilError, errorMessage } from '../common/errors';
import { initTrustDomain, issueSvid, readTrustDomain } from '../common/spiffe/local-ca';
import type { TlsFlags } from '../common/spiffe/tls-files';
import { featuresText, probeKernel } from '../agent/kernel/features';
import { checkRules } from '../agent/rules/check';
import { parseTraceArgs, runTrace } from './trace';
import { parseUpArgs, runUp, UP_DEFAULTS } from './up';

const USAGE = `usage: vigil <command> [options]

commands:
  up [--data DIR] [--listen HOST:PORT] [--rules PATH...] [--identities FILE]
        control plane + agent with the default rule pack on this host, mTLS from a
        local trust domain, alerts shown live (defaults: ${UP_DEFAULTS.dataDir}, ${UP_DEFAULTS.listen},
        metrics ${UP_DEFAULTS.agentMetrics} (agent) and ${UP_DEFAULTS.cpMetrics} (control plane))
  agent --rules PATH... [--identities FILE] [--output json|text] [--node NAME] [--metrics HOST:PORT]
        [--controlplane HOST:PORT (TLS | --insecure) [--server-id ID] [--state DIR]]
        [--kubernetes [--kubeconfig FILE] [--spiffe-template T] [--workload-trust-domain TD]
         [--enrich-wait S] | --no-kubernetes]
        match rules about SPIFFE workloads; alert, kill or deny; one JSON alert per line.
        Pod identity is on by itself inside a cluster (service account token present).
  controlplane --listen HOST:PORT --data DIR (TLS | --insecure) [--metrics HOST:PORT]
        [--agent-id PATTERN]... [--admin-id PATTERN]... [--retention-days N]
  alerts --controlplane HOST:PORT (TLS | --insecure) [--since T] [--rule R] [--workload P] [--node N] [--follow]
  agents --controlplane HOST:PORT (TLS | --insecure)
  policy push PATH... --controlplane HOST:PORT (TLS | --insecure)
        validate rules centrally, sign them as the next policy version, send them to agents
  audit verify --data DIR      check the hash chain of the control plane's audit log
  audit export --data DIR      the audit log as JSON lines, for auditors
  certs init --dir DIR --trust-domain TD [--nodes N1,N2]
        mint a trust domain: CA, bundle, policy key, SVIDs for the control plane, an admin, agents
  certs issue --dir DIR --spiffe-id ID --name NAME
  rules check PATH... [--identities FILE]
        validate rules without running them; print how each rule is enforced here
  trace [--output json|text] [--cgroup PATH]... [--kinds exec,open,...] [--details] [--duration S]
        stream kernel events, one JSON object per line; Ctrl-C prints a summary to stderr
  probe [--json] [--rules PATH...]
        what this kernel supports: hooks, event sources, enforcement modes (per rule with --rules)

TLS (agent, controlplane, alerts, agents, policy push): --certs DIR (from vigil certs), or single
files as SPIRE or a Secret provides them, which win over DIR: --bundle FILE --cert FILE --key FILE
[--trust-domain TD] [--policy-key FILE]; the trust domain defaults to DIR/trust-domain, else to
the one in our own SVID.
`;

/** --flag value pairs and the rest (paths). */
function flags(argv: string[], multi: string[] = []): { f: Record<string, string[]>; rest: string[] } {
  const f: Record<string, string[]> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const [k, inline] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), undefined];
    if (['insecure', 'follow', 'json'].includes(k)) {
      (f[k] ??= []).push('true');
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new VigilError('BAD_ARGUMENT', `--${k}: expected a value`);
    (f[k] ??= []).push(v);
    if (multi.includes(k)) while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) f[k].push(argv[++i]);
  }
  return { f, rest };
}

function one(f: Record<string, string[]>, k: string, cmd: string): string {
  const v = f[k]?.[0];
  if (v === undefined) throw new VigilError('BAD_ARGUMENT', `vigil ${cmd}: --${k} is required`);
  return v;
}

/** --certs, --trust-domain, --bundle, --cert, --key, --policy-key */
function tlsFlags(f: Record<string, string[]>): TlsFlags {
  return {
    certsDir: f.certs?.[0],
    trustDomain: f['trust-domain']?.[0],
    bundle: f.bundle?.[0],
    cert: f.cert?.[0],
    key: f.key?.[0],
    policyKey: f['policy-key']?.[0],
  };
}

function adminLink(f: Record<string, string[]>, cmd: string): AdminLink {
  const insecure = f.insecure !== undefined;
  return { address: one(f, 'controlplane', cmd), insecure, serverId: f['server-id']?.[0], ...tlsFlags(f) };
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'trace': {
        const opts = parseTraceArgs(rest);
        await runTrace({ ...opts, out: process.stdout, err: process.stderr });
        return 0;
      }
      case 'probe': {
        const f = probeKernel();
        process.stdout.write(rest.includes('--json') ? JSON.stringify(f, null, 2) + '\n' : featuresText(f));
        const ri = rest.indexOf('--rules');
        if (ri >= 0) {
          const paths = rest.slice(ri + 1).filter((a) => !a.startsWith('--'));
          process.stdout.write('\nrules:\n' + checkRules(paths).text);
        }
        return 0;
      }
      case 'agent': {
        const opts = parseAgentArgs(rest);
        await runAgent({ ...opts, out: process.stdout, err: process.stderr });
        return 0;
      }
      case 'up': {
        await runUp({ ...parseUpArgs(rest), out: process.stdout, err: process.stderr });
        return 0;
      }
      case 'controlplane': {
        const { f } = flags(rest);
        const listen = one(f, 'listen', cmd);
        splitHostPort(listen);
        const running = await startControlPlane({
          listen,
          dataDir: one(f, 'data', cmd),
          ...tlsFlags(f),
          insecure: f.insecure !== undefined,
          agentIds: f['agent-id'],
          adminIds: f['admin-id'],
          metricsAddress: f.metrics?.[0],
          retentionDays: f['retention-days'] ? Number(f['retention-days'][0]) : undefined,
          log: (l) => process.stderr.write(`vigil controlplane: ${l}\n`),
        });
        process.stderr.write(
          `vigil controlplane: listening on ${listen.replace(/:\d+$/, '')}:${running.port}${running.trustDomain ? ` (mTLS, trust domain ${running.trustDomain})` : ''}` +
            `${running.metricsServer ? `, metrics on :${running.metricsServer.port}` : ''}\n`,
        );
        await untilStopped();
        await running.close();
        return 0;
      }
      case 'alerts': {
        const { f } = flags(rest);
        let stop: () => void = () => undefined;
        const stopped = new Promise<void>((r) => (stop = r));
        process.once('SIGINT', () => stop());
        process.once('SIGTERM', () => stop());
        await listAlerts(
          adminLink(f, cmd),
          { since: f.since?.[0] ?? '', rule: f.rule?.[0] ?? '', workload: f.workload?.[0] ?? '', node: f.node?.[0] ?? '', limit: Number(f.limit?.[0] ?? 0) },
          f.follow !== undefined,
          process.stdout,
          stopped,
        );
        return 0;
      }
      case 'agents': {
        const { f } = flags(rest);
        process.stdout.write(await listAgents(adminLink(f, cmd)));
        return 0;
      }
      case 'policy': {
        const [sub, ...more] = rest;
        if (sub !== 'push') throw new VigilError('BAD_ARGUMENT', `vigil policy: unknown subcommand "${sub ?? ''}" (expected push)`);
        const { f, rest: paths } = flags(more);
        if (paths.length === 0) throw new VigilError('BAD_ARGUMENT', 'vigil policy push: expected PATH...');
        const r = await pushPolicy(adminLink(f, 'policy push'), paths);
        process.stdout.write(`policy v${r.version} signed and sent to ${r.agents} connected agents\n`);
        return 0;
      }
      case 'audit': {
        const [sub, ...more] = rest;
        const { f } = flags(more);
        const data = one(f, 'data', `audit ${sub}`);
        if (sub === 'verify') {
          const r = auditVerify(data);
          (r.ok ? process.stdout : process.stderr).write(r.text);
          return r.ok ? 0 : 1;
        }
        if (sub === 'export') {
          auditExport(data, process.stdout);
          return 0;
        }
        throw new VigilError('BAD_ARGUMENT', `vigil audit: unknown subcommand "${sub ?? ''}" (expected verify or export)`);
      }
      case 'certs': {
        const [sub, ...more] = rest;
        const { f } = flags(more);
        const dir = one(f, 'dir', `certs ${sub}`);
        if (sub === 'init') {
          const td = one(f, 'trust-domain', 'certs init');
          await initTrustDomain(dir, td);
          await issueSvid(dir, `spiffe://${td}/vigil/controlplane`, 'controlplane');
          await issueSvid(dir, `spiffe://${td}/vigil/admin/cli`, 'admin');
          for (const n of (f.nodes?.[0] ?? '').split(',').filter(Boolean)) await issueSvid(dir, `spiffe://${td}/vigil/agent/${n}`, `agent-${n}`);
          process.stdout.write(`trust domain ${td} in ${dir}: bundle.pem, controlplane.pem, admin.pem, policy.key/policy.pub${f.nodes ? `, agent-*.pem` : ''}\n`);
          return 0;
        }
        if (sub === 'issue') {
          readTrustDomain(dir);
          const s = await issueSvid(dir, one(f, 'spiffe-id', 'certs issue'), one(f, 'name', 'certs issue'));
          process.stdout.write(`${s.spiffeId}: ${path.relative(process.cwd(), s.cert)}, ${path.relative(process.cwd(), s.key)}\n`);
          return 0;
        }
        throw new VigilError('BAD_ARGUMENT', `vigil certs: unknown subcommand "${sub ?? ''}" (expected init or issue)`);
      }
      case 'rules': {
        const [sub, ...paths] = rest;
        if (sub !== 'check') throw new VigilError('BAD_ARGUMENT', `vigil rules: unknown subcommand "${sub ?? ''}" (expected check)`);
        let identities: string | undefined;
        const files: string[] = [];
        for (let i = 0; i < paths.length; i++) {
          if (paths[i] === '--identities') identities = paths[++i];
          else files.push(paths[i]);
        }
        if (files.length === 0) throw new VigilError('BAD_ARGUMENT', 'vigil rules check: expected PATH...');
        process.stdout.write(checkRules(files, identities).text);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`vigil: unknown command "${cmd}"\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof VigilError) {
      // rule and identity errors carry their own file:line:col
      const prefix = err.code === 'RULES' || err.code === 'IDENTITIES' ? '' : `vigil ${cmd}: `;
      process.stderr.write(`${prefix}${err.message}\n`);
      return err.code === 'BAD_ARGUMENT' ? 2 : 1;
    }
    if (err instanceof CpError) {
      process.stderr.write(`vigil ${cmd}: ${err.message}\n`);
      return err.code === 'CONFIG' ? 2 : 1;
    }
    process.stderr.write(`vigil ${cmd}: ${errorMessage(err)}\n`);
    return 1;
  }
}
