// An agent's link to the control plane without an agent: the Uplink as the
// delivery and end-to-end tests and the control-plane benchmark use it, an
// agent SVID from a `vigil certs` directory, no policy handling unless given.
import * as path from 'node:path';
import type { Spool } from '../../agent/export/spool';
import { Uplink, type UplinkOptions } from '../../agent/export/uplink';

export interface TestUplinkOptions extends Partial<UplinkOptions> {
  address: string;
  /** a `vigil certs` directory holding agent-NODE.pem/.key */
  certs: string;
  trustDomain: string;
  node: string;
  bootId: string;
  spool: Spool;
}

export function testUplink(o: TestUplinkOptions): Uplink {
  const { certs, trustDomain, ...rest } = o;
  return new Uplink({
    tls: {
      bundle: path.join(certs, 'bundle.pem'),
      cert: path.join(certs, `agent-${o.node}.pem`),
      key: path.join(certs, `agent-${o.node}.key`),
      trustDomain,
      serverId: `spiffe://${trustDomain}/vigil/controlplane`,
    },
    version: 'test',
    capabilities: {},
    policyKey: null,
    policyState: null,
    applyPolicy: () => null,
    currentPolicyVersion: () => 0,
    ...rest,
  });
}
