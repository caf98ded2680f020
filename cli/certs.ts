// `vigil certs init` and `vigil certs issue`: a local trust domain (CA,
// bundle, policy key) and X.509-SVIDs, for `vigil up`, tests and small
// installs. With SPIRE, SPIRE does this.
import { Option, type Command } from 'commander';
import * as path from 'node:path';
import { need, vigilCommand, type CliIo } from './args';

/** The SPIFFE IDs `vigil certs init` and `vigil up` mint (and the control plane authorizes by default). */
export const DEFAULT_IDS = {
  controlplane: (td: string): string => `spiffe://${td}/vigil/controlplane`,
  admin: (td: string, name: string): string => `spiffe://${td}/vigil/admin/${name}`,
  agent: (td: string, node: string): string => `spiffe://${td}/vigil/agent/${node}`,
};

export function certsCommand(io?: CliIo): Command {
  const init = vigilCommand('init', 'mint a trust domain: CA, bundle, policy key, audit log key, SVIDs for the control plane, an admin, agents')
    .addOption(new Option('--dir <dir>', 'where to write it (required; refused if it already holds one)'))
    .addOption(new Option('--trust-domain <td>', 'the trust domain, e.g. prod.example.org (required)'))
    .addOption(new Option('--nodes <n1,n2,...>', 'also an agent SVID for each node'));
  const issue = vigilCommand('issue', 'issue an X.509-SVID from the trust domain in DIR')
    .addOption(new Option('--dir <dir>', 'a trust domain made by vigil certs init (required)'))
    .addOption(new Option('--spiffe-id <id>', "the SVID's SPIFFE ID (required)"))
    .addOption(new Option('--name <name>', 'written as NAME.pem and NAME.key (required)'));
  if (io) {
    init.action(async (v: { dir?: string; trustDomain?: string; nodes?: string }) => {
      const dir = need(v.dir, '--dir', init);
      const td = need(v.trustDomain, '--trust-domain', init);
      const { initTrustDomain, issueSvid } = await import('../common/spiffe/local-ca');
      await initTrustDomain(dir, td);
      await issueSvid(dir, DEFAULT_IDS.controlplane(td), 'controlplane');
      await issueSvid(dir, DEFAULT_IDS.admin(td, 'cli'), 'admin');
      const nodes = (v.nodes ?? '').split(',').filter(Boolean);
      for (const n of nodes) await issueSvid(dir, DEFAULT_IDS.agent(td, n), `agent-${n}`);
      io.out.write(`trust domain ${td} in ${dir}: bundle.pem, controlplane.pem, admin.pem, policy.key/policy.pub, log.key/log.pub${nodes.length ? ', agent-*.pem' : ''}\n`);
      io.exit(0);
    });
    issue.action(async (v: { dir?: string; spiffeId?: string; name?: string }) => {
      const dir = need(v.dir, '--dir', issue);
      const id = need(v.spiffeId, '--spiffe-id', issue);
      const name = need(v.name, '--name', issue);
      const { issueSvid, readTrustDomain } = await import('../common/spiffe/local-ca');
      readTrustDomain(dir);
      const s = await issueSvid(dir, id, name);
      io.out.write(`${s.spiffeId}: ${path.relative(process.cwd(), s.cert)}, ${path.relative(process.cwd(), s.key)}\n`);
      io.exit(0);
    });
  }
  return vigilCommand('certs', 'a local trust domain and X.509-SVIDs').addCommand(init).addCommand(issue);
}
