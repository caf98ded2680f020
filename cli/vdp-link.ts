// The VdpService client the vulnerability-disclosure commands share
// (advisories, gate, quarantine, tickets), over the admin link of cli/admin.ts.
import type { VdpServiceClient } from '../common/proto/generated/vigil/v1/VdpService';
import { vigilProto } from '../common/proto/load';
import { VigilError } from '../common/errors';
import { parseImageRef } from '../common/image-ref';
import { adminClient, type AdminLink } from './admin';

export function vdpClient(l: AdminLink): VdpServiceClient {
  return adminClient(l, vigilProto().VdpService) as unknown as VdpServiceClient;
}

/** --image REF: a reference that carries a digest (a tag names no image for sure). */
export function imageDigest(ref: string, flag = '--image'): { digest: string; name: string } {
  const r = parseImageRef(ref);
  if ('error' in r) throw new VigilError('BAD_ARGUMENT', `${flag}: ${r.error}`);
  if (!r.digest) throw new VigilError('BAD_ARGUMENT', `${flag}: "${ref}" has no digest: give name@sha256:... (a tag can move)`);
  return { digest: r.digest, name: r.name ?? '' };
}
