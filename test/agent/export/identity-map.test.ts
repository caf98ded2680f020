// The agent's side of the identity map: a version applies only once all its
// chunks are here, deltas replace the nodes they name, a delta on top of a
// version this agent does not hold is refused (the uplink reconnects).
import * as assert from 'node:assert/strict';
import { IdentityMapAssembler } from '../../../agent/export/identity-map';
import type { IdentityMap__Output } from '../../../common/proto/generated/vigil/v1/IdentityMap';

const msg = (o: Partial<IdentityMap__Output>): IdentityMap__Output => ({ version: '1', entries: [], chunk: 0, chunks: 0, delta: false, replaced_nodes: [], base_version: '0', ...o });
const e = (cidr: string, node: string): { cidr: string; spiffe_id: string; node: string } => ({ cidr, spiffe_id: `spiffe://t/${node}`, node });

describe('identity map assembly', () => {
  it('applies a version when every chunk is here, in any order; deltas replace the named nodes', () => {
    const a = new IdentityMapAssembler();
    assert.equal(a.take(msg({ version: '3', chunk: 1, chunks: 2, entries: [e('10.0.0.2/32', 'b')] })), null);
    const full = a.take(msg({ version: '3', chunk: 0, chunks: 2, entries: [e('10.0.0.1/32', 'a')] }));
    assert.deepEqual(full?.map((x) => x.cidr).sort(), ['10.0.0.1/32', '10.0.0.2/32']);
    const d = a.take(msg({ version: '4', chunk: 0, chunks: 1, delta: true, base_version: '3', replaced_nodes: ['b', 'c'], entries: [e('10.0.0.9/32', 'c')] }));
    assert.deepEqual(d?.map((x) => `${x.node} ${x.cidr}`).sort(), ['a 10.0.0.1/32', 'c 10.0.0.9/32']);
    // a single message (chunks 0) is a whole map, as older control planes send it
    assert.deepEqual(a.take(msg({ version: '5', entries: [e('10.0.0.3/32', 'z')] }))?.length, 1);
  });

  it('a delta on top of another version is refused', () => {
    const a = new IdentityMapAssembler();
    a.take(msg({ version: '3', chunks: 1 }));
    assert.throws(() => a.take(msg({ version: '5', chunks: 1, delta: true, base_version: '4', replaced_nodes: ['x'] })), /delta v5 is on top of v4, this agent holds v3/);
  });
});
