// cli/agent.ts: the options of `vigil agent`, as commander reads them and as they are checked together.
import * as assert from 'node:assert/strict';
import { parseAgentArgs } from '../../cli/agent';

describe('vigil agent: Kubernetes and TLS flags', () => {
  it('parses pod identity and single-file TLS options', () => {
    const o = parseAgentArgs([
      '--rules', '/etc/vigil/rules',
      '--kubernetes', '--kubeconfig', '/k', '--spiffe-template', 'spiffe://{trust_domain}/{namespace}/{pod}', '--workload-trust-domain', 'prod.example.org',
      '--enrich-wait', '0.5',
      '--controlplane', 'vigil-controlplane.vigil:7443', '--bundle', '/svid/bundle.pem', '--cert', '/svid/svid.pem', '--key', '/svid/key.pem',
      '--trust-domain', 'prod.example.org', '--policy-key', '/policy/policy.pub', '--server-id', 'spiffe://prod.example.org/ns/vigil/sa/vigil-controlplane',
    ]);
    assert.deepEqual(o.kubernetes, { kubeconfig: '/k', template: 'spiffe://{trust_domain}/{namespace}/{pod}', trustDomain: 'prod.example.org' });
    assert.equal(o.enrichWaitMs, 500);
    assert.deepEqual(o.controlplane, {
      address: 'vigil-controlplane.vigil:7443',
      insecure: false,
      bundle: '/svid/bundle.pem',
      cert: '/svid/svid.pem',
      key: '/svid/key.pem',
      trustDomain: 'prod.example.org',
      policyKey: '/policy/policy.pub',
      serverId: 'spiffe://prod.example.org/ns/vigil/sa/vigil-controlplane',
    });
    assert.equal(parseAgentArgs(['--rules', 'r', '--no-kubernetes']).kubernetes, false);
    assert.equal(parseAgentArgs(['--rules', 'r']).kubernetes, undefined, 'unset: on when in a cluster');
  });

  it('refuses contradictions and bad values, naming the flag', () => {
    assert.throws(() => parseAgentArgs(['--rules', 'r', '--no-kubernetes', '--kubeconfig', '/k']), /--no-kubernetes with a Kubernetes option/);
    assert.throws(() => parseAgentArgs(['--rules', 'r', '--kubernetes=yes']), /--kubernetes takes no value/);
    assert.throws(() => parseAgentArgs(['--rules', 'r', '--enrich-wait', '-1']), /--enrich-wait: expected seconds from 0 to 60/);
    assert.throws(() => parseAgentArgs(['--rules', 'r', '--bundle', '/b']), /--bundle, .* need --controlplane HOST:PORT/);
  });
});
