// `vigil audit verify` and `vigil audit export`: read the control plane's
// store file directly (no server needed), for operators and auditors.
import * as path from 'node:path';
import { canonicalJson } from '../common/canonical-json';
import { Option, type Command } from 'commander';
import { vigilCommand, type CliIo } from './args';
import { DEFAULT_DATA_DIR, readLocal } from './local';

/** `vigil audit verify`: walk the chain in the store file. */
export async function auditVerify(dataDir: string): Promise<{ ok: boolean; text: string }> {
  const { Store } = await import('../controlplane/store');
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
export async function auditExport(dataDir: string, out: NodeJS.WritableStream): Promise<number> {
  const { Store } = await import('../controlplane/store');
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

// ---- the commands ------------------------------------------------------------

interface DataValues {
  data?: string;
}

/** --data, or the control plane `vigil up` runs on this host. */
function dataDir(v: DataValues, step: string): string {
  return v.data ?? readLocal(DEFAULT_DATA_DIR, step).data;
}

export function auditCommand(io?: CliIo): Command {
  const dataOption = (): Option => new Option('--data <dir>', "the control plane's data directory (default: vigil up's on this host)");
  const verify = vigilCommand('verify', "check the hash chain of the control plane's audit log").addOption(dataOption());
  const exp = vigilCommand('export', 'the audit log as JSON lines, for auditors').addOption(dataOption());
  if (io) {
    verify.action(async (v: DataValues) => {
      const r = await auditVerify(dataDir(v, 'vigil audit verify'));
      (r.ok ? io.out : io.err).write(r.text);
      io.exit(r.ok ? 0 : 1);
    });
    exp.action(async (v: DataValues) => {
      await auditExport(dataDir(v, 'vigil audit export'), io.out);
      io.exit(0);
    });
  }
  return vigilCommand('audit', "the control plane's audit log").addCommand(verify).addCommand(exp);
}
