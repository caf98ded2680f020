// Signed policy as the control plane sends it: whole in one message, or in
// chunks of the payload (each under the message limit) that are put back
// together before the signature is checked. A payload over what this agent
// takes is refused before it is held.
import type { PolicyBundle__Output } from '../../common/proto/generated/vigil/v1/PolicyBundle';
import type { SignedPolicy } from '../rules/policy';

export const DEFAULT_MAX_POLICY_BYTES = 64 << 20;

export class PolicyChunks {
  private pending: { version: number; chunks: number; total: number; got: Map<number, Buffer>; bytes: number } | null = null;

  constructor(readonly maxBytes = DEFAULT_MAX_POLICY_BYTES) {}

  /** The whole bundle once every chunk is here, null while some are missing; throws when the payload is over the limit or does not add up. */
  take(m: PolicyBundle__Output): SignedPolicy | null {
    const version = Number(m.version);
    const whole = (payload: Buffer): SignedPolicy => ({ version, payload, signature: Buffer.from(m.signature), keyId: m.key_id });
    if (!m.chunks) {
      this.pending = null;
      if (m.payload.length > this.maxBytes) throw new Error(`policy v${version}: a payload of ${m.payload.length} bytes is over this agent's limit of ${this.maxBytes}`);
      return whole(Buffer.from(m.payload));
    }
    const total = Number(m.total_bytes);
    if (total > this.maxBytes) {
      this.pending = null;
      throw new Error(`policy v${version}: a payload of ${total} bytes is over this agent's limit of ${this.maxBytes}`);
    }
    if (!this.pending || this.pending.version !== version) this.pending = { version, chunks: m.chunks, total, got: new Map(), bytes: 0 };
    const p = this.pending;
    if (!p.got.has(m.chunk)) {
      p.got.set(m.chunk, Buffer.from(m.payload));
      p.bytes += m.payload.length;
    }
    if (p.bytes > p.total) {
      this.pending = null;
      throw new Error(`policy v${version}: chunks of more than the ${p.total} bytes announced`);
    }
    if (p.got.size < p.chunks) return null;
    this.pending = null;
    const payload = Buffer.concat([...p.got.keys()].sort((a, b) => a - b).map((k) => p.got.get(k) as Buffer));
    if (payload.length !== p.total) throw new Error(`policy v${version}: chunks of ${payload.length} bytes, ${p.total} announced`);
    return whole(payload);
  }

  reset(): void {
    this.pending = null;
  }
}
