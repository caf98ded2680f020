// What `vigil up` runs on this host, written where the admin commands look
// for it: after `vigil up`, `vigil alerts`, `vigil agents`, `vigil policy
// push` and `vigil audit verify` need no flags on the same host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, VigilError } from '../common/errors';

/** `vigil up`'s data directory (and where the admin commands look first). */
export const DEFAULT_DATA_DIR = '/var/lib/vigil';

export interface LocalControlPlane {
  /** where its gRPC server listens (HOST:PORT) */
  address: string;
  /** the local trust domain (`vigil certs` layout: bundle.pem, admin.pem, ...) */
  certs: string;
  /** the control plane's data directory (vigil.db) */
  data: string;
}

export function localFile(dataDir: string): string {
  return path.join(dataDir, 'local.json');
}

export function writeLocal(dataDir: string, l: LocalControlPlane): void {
  const file = localFile(dataDir);
  fs.writeFileSync(file + '.tmp', JSON.stringify(l, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(file + '.tmp', file);
}

/** The local control plane, or an error that says how to name one. */
export function readLocal(dataDir: string, step: string): LocalControlPlane {
  const file = localFile(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new VigilError('BAD_ARGUMENT', `${step}: no --controlplane given and no local control plane (${file} is missing): start one with vigil up, or give --controlplane HOST:PORT --certs DIR`);
  }
  try {
    const l = JSON.parse(text) as Partial<LocalControlPlane>;
    if (typeof l.address !== 'string' || typeof l.certs !== 'string' || typeof l.data !== 'string') throw new Error('expected address, certs and data');
    return { address: l.address, certs: l.certs, data: l.data };
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `${step}: ${file}: not what vigil up writes (${errorMessage(err)}): run vigil up again, or give --controlplane`);
  }
}
