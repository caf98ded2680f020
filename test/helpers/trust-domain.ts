// A `vigil certs` directory for tests that run a control plane: the trust
// domain (CA, bundle, policy and audit log keys, as initTrustDomain makes
// them), the control plane's SVID (controlplane.pem/.key), and the SVIDs the
// test names.
import { initTrustDomain, issueSvid } from '../../common/spiffe/local-ca';

/**
 * `svids`: file name -> the SPIFFE ID's path below the trust domain, issued in
 * that order; e.g. { admin: 'vigil/admin/ann', 'agent-node-1': 'vigil/agent/node-1' }
 * writes admin.pem/.key for spiffe://TD/vigil/admin/ann and agent-node-1.pem/.key.
 */
export async function testTrustDomain(certs: string, td: string, svids: Record<string, string> = {}): Promise<void> {
  await initTrustDomain(certs, td);
  await issueSvid(certs, `spiffe://${td}/vigil/controlplane`, 'controlplane');
  for (const [name, id] of Object.entries(svids)) await issueSvid(certs, `spiffe://${td}/${id}`, name);
}
