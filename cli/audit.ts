// `vigil audit verify` and `vigil audit export`: read the control plane's
// store file directly (no server needed), for operators and auditors.
import * as path from 'node:path';
import { canonicalJson } from '../common/canonical-json';
import { Store } from '../controlplane/store';

/** `vigil audit verify`: walk the chain in the store file. */
export function auditVerify(dataDir: string): { ok: boolean; text: string } {
  const store = new Store(path.join(dataDir, 'vigil.db'));
  try {
    const v = store.verifyAudit();
    return v.intact
      ? { ok: true, text: `audit log intact: ${v.entries} entries, head ${v.head}\n` }
      : { ok: false, text: `audit log TAMPERED: ${v.problem} (checked ${v.entries} entries)\n` };
  } finally {
    store.close();
  }
}

/** `vigil audit export`: every entry, one canonical JSON object per line, for auditors. */
export function auditExport(dataDir: string, out: NodeJS.WritableStream): number {
  const store = new Store(path.join(dataDir, 'vigil.db'));
  try {
    let n = 0;
    for (const e of store.auditEntries()) {
      out.write(canonicalJson(e) + '\n');
      n++;
    }
    return n;
  } finally {
    store.close();
  }
}
