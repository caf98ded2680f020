// Signed policy in chunks: put back together in order, refused before it is
// held when over this agent's limit, refused when the chunks do not add up.
import * as assert from 'node:assert/strict';
import { PolicyChunks } from '../../../agent/export/policy-chunks';
import type { PolicyBundle__Output } from '../../../common/proto/generated/vigil/v1/PolicyBundle';

const part = (o: Partial<PolicyBundle__Output>): PolicyBundle__Output => ({ version: '7', payload: Buffer.alloc(0), signature: Buffer.from('sig'), key_id: 'k', chunk: 0, chunks: 0, total_bytes: '0', ...o });

describe('policy chunks', () => {
  it('reassembles in any order; a single message is whole', () => {
    const c = new PolicyChunks(100);
    assert.equal(c.take(part({ chunk: 1, chunks: 2, total_bytes: '6', payload: Buffer.from('def') })), null);
    const b = c.take(part({ chunk: 0, chunks: 2, total_bytes: '6', payload: Buffer.from('abc') }));
    assert.equal(b?.payload.toString(), 'abcdef');
    assert.equal(b?.version, 7);
    assert.equal(c.take(part({ payload: Buffer.from('xyz') }))?.payload.toString(), 'xyz');
  });

  it('over the limit is refused before anything is held; chunks that do not add up are refused', () => {
    const c = new PolicyChunks(10);
    assert.throws(() => c.take(part({ chunk: 0, chunks: 3, total_bytes: '11', payload: Buffer.from('a') })), /a payload of 11 bytes is over this agent's limit of 10/);
    assert.throws(() => c.take(part({ payload: Buffer.alloc(11) })), /over this agent's limit of 10/);
    c.take(part({ chunk: 0, chunks: 2, total_bytes: '4', payload: Buffer.from('ab') }));
    assert.throws(() => c.take(part({ chunk: 1, chunks: 2, total_bytes: '4', payload: Buffer.from('cde') })), /chunks of more than the 4 bytes announced/);
  });
});
