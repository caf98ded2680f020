// Signed policy bundles: rules files, a version, an Ed25519 signature by
// the control plane's policy key. Agents verify against a pinned public key,
// refuse bad signatures and invalid rules, and keep the last good bundle on
// disk so that it survives their restart and a control plane that is down.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { canonicalJson } from '../../common/canonical-json';
import { readStateFile, writeFileDurable } from '../../common/durable-file';
import { errorMessage, VigilError } from '../../common/errors';
import { RuleSet } from './compile';
import { loadRuleSources } from './load';
import type { SourceFile } from '../../common/source-pos';

export interface PolicyFile {
  name: string;
  text: string;
}

export interface PolicyPayload {
  version: number;
  created: string;
  files: PolicyFile[];
}

export interface SignedPolicy {
  version: number;
  payload: Buffer;
  signature: Buffer;
  keyId: string;
}

export function keyId(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function loadPrivateKey(file: string): KeyObject {
  try {
    return createPrivateKey(fs.readFileSync(file));
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `policy signing key ${file}: ${errorMessage(err)}`);
  }
}

export function loadPublicKey(file: string): KeyObject {
  try {
    return createPublicKey(fs.readFileSync(file));
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `policy public key ${file}: ${errorMessage(err)}`);
  }
}

/** Validate the rules (every problem, file:line:col) before anything is signed. */
export function validatePolicyFiles(files: readonly PolicyFile[]): RuleSet {
  return new RuleSet(loadRuleSources(files.map((f): SourceFile => ({ name: f.name, text: f.text }))));
}

/** The bytes that would be signed, rules not validated: their size can be checked before the validation's cost. */
export function policyPayload(version: number, files: readonly PolicyFile[]): Buffer {
  return Buffer.from(canonicalJson({ version, created: new Date().toISOString(), files: files.map((f) => ({ name: f.name, text: f.text })) }));
}

/** Sign a payload made by policyPayload from files already validated. */
export function signPolicyPayload(version: number, payload: Buffer, key: KeyObject): SignedPolicy {
  const pub = createPublicKey(key);
  return { version, payload, signature: sign(null, payload, key), keyId: keyId(pub) };
}

export function signPolicy(version: number, files: readonly PolicyFile[], key: KeyObject): SignedPolicy {
  validatePolicyFiles(files);
  return signPolicyPayload(version, policyPayload(version, files), key);
}

const VALIDATE = 'vigil-policy-validate';

/**
 * validatePolicyFiles on a worker thread: rules of several megabytes take
 * seconds to parse (YAML) and compile, and the caller's event loop (a
 * control plane's ingestion, an agent's events) keeps running meanwhile.
 * Rejects with the same message validatePolicyFiles throws.
 */
export function validatePolicyFilesOffThread(files: readonly PolicyFile[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { kind: VALIDATE, files } });
    let done = false;
    w.once('message', (m: { error: string | null }) => {
      done = true;
      if (m.error === null) resolve();
      else reject(new VigilError('RULES', m.error));
    });
    w.once('error', (err) => {
      done = true;
      reject(new Error(`validating the rules on a worker thread: ${errorMessage(err)}`));
    });
    w.once('exit', (code) => {
      if (!done) reject(new Error(`validating the rules on a worker thread: it exited with code ${code} before answering`));
    });
  });
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === VALIDATE) {
  let error: string | null = null;
  try {
    validatePolicyFiles((workerData as { files: PolicyFile[] }).files);
  } catch (err) {
    error = errorMessage(err);
  }
  parentPort?.postMessage({ error });
}

export interface VerifiedPolicy {
  version: number;
  files: PolicyFile[];
  rules: RuleSet;
}

/**
 * Check the signature with the pinned key, then the payload, then the rules.
 * Throws with the reason; nothing is applied by this function.
 */
export function verifyPolicy(b: SignedPolicy, pinned: KeyObject): VerifiedPolicy {
  const expectId = keyId(pinned);
  if (b.keyId && b.keyId !== expectId) {
    throw new VigilError('RULES', `policy v${b.version}: signed by key ${b.keyId.slice(0, 16)}..., not the pinned key ${expectId.slice(0, 16)}...`);
  }
  if (!b.signature.length || !verify(null, b.payload, pinned, b.signature)) {
    throw new VigilError('RULES', `policy v${b.version}: bad signature: refused`);
  }
  let p: PolicyPayload;
  try {
    p = JSON.parse(b.payload.toString('utf8')) as PolicyPayload;
  } catch (err) {
    throw new VigilError('RULES', `policy v${b.version}: payload is not JSON: ${errorMessage(err)}`);
  }
  if (p.version !== b.version || !Array.isArray(p.files)) {
    throw new VigilError('RULES', `policy v${b.version}: payload says version ${p.version}: refused`);
  }
  const rules = validatePolicyFiles(p.files);
  return { version: p.version, files: p.files, rules };
}

/** What accepting a bundle needs: the pinned key, where the last good one is kept, and how to apply it. */
export interface PolicyAcceptor {
  /** pinned policy public key; null: bundles are refused */
  policyKey: KeyObject | null;
  policyState: PolicyState | null;
  /** apply a verified policy; return an error text to refuse it */
  applyPolicy: (p: VerifiedPolicy) => string | null;
  /** the signed version in force (0: none) */
  currentPolicyVersion?: () => number;
}

/**
 * Verify and apply a bundle; on success keep it as the last good one.
 * Policy only moves forward: a version lower than the highest this agent
 * ever applied (kept on disk), or not newer than the one in force, is
 * refused, however validly signed (an old bundle replayed by anyone who
 * kept it, or a control plane restored from an older backup).
 */
export function acceptPolicy(b: SignedPolicy, o: PolicyAcceptor): { ok: boolean; error?: string; version: number } {
  if (!o.policyKey) return { ok: false, version: b.version, error: 'no pinned policy key: bundles are refused' };
  const floor = o.policyState?.highest() ?? 0;
  const current = o.currentPolicyVersion?.() ?? 0;
  if (b.version < floor) {
    return { ok: false, version: b.version, error: `policy v${b.version} is older than v${floor}, the highest applied on this node: refused (policy only moves forward)` };
  }
  if (b.version <= current) {
    return { ok: false, version: b.version, error: `policy v${b.version} is not newer than v${current} in force: refused (policy only moves forward)` };
  }
  let v: VerifiedPolicy;
  try {
    v = verifyPolicy(b, o.policyKey);
  } catch (err) {
    return { ok: false, version: b.version, error: errorMessage(err) };
  }
  const refused = o.applyPolicy(v);
  if (refused) return { ok: false, version: b.version, error: refused };
  o.policyState?.save(b);
  return { ok: true, version: b.version };
}

/** The last good bundle and the highest version ever applied, kept by the agent across restarts. */
export class PolicyState {
  private readonly file: string;
  private readonly floorFile: string;
  private floor: number;

  constructor(
    dir: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'policy.json');
    this.floorFile = path.join(dir, 'policy-version.json');
    const f = readStateFile(this.floorFile, (t) => {
      const j = JSON.parse(t) as { highest?: unknown };
      if (!Number.isSafeInteger(j.highest) || (j.highest as number) < 0) throw new Error('"highest" must be a whole number');
      return j.highest as number;
    });
    if (f.state === 'corrupt') this.log(`${this.floorFile} is corrupt (${f.problem}); set aside as ${f.setAside}; the saved policy's version is the floor now`);
    this.floor = f.state === 'ok' ? f.value : 0;
  }

  /** The highest version ever applied here: anything lower is refused. */
  highest(): number {
    return this.floor;
  }

  save(b: SignedPolicy): void {
    const text = JSON.stringify({
      version: b.version,
      payload: b.payload.toString('base64'),
      signature: b.signature.toString('base64'),
      keyId: b.keyId,
    });
    if (b.version > this.floor) {
      writeFileDurable(this.floorFile, JSON.stringify({ highest: b.version }));
      this.floor = b.version;
    }
    writeFileDurable(this.file, text);
  }

  /** The last good bundle (null: none, or a file that is not one: named, set aside, and the control plane sends the latest again). */
  load(): SignedPolicy | null {
    const r = readStateFile(this.file, (t) => {
      const j = JSON.parse(t) as { version?: unknown; payload?: unknown; signature?: unknown; keyId?: unknown };
      if (!Number.isSafeInteger(j.version) || typeof j.payload !== 'string' || typeof j.signature !== 'string' || typeof j.keyId !== 'string') {
        throw new Error('not a saved policy bundle (version, payload, signature, keyId)');
      }
      return { version: j.version as number, payload: Buffer.from(j.payload, 'base64'), signature: Buffer.from(j.signature, 'base64'), keyId: j.keyId };
    });
    if (r.state === 'corrupt') {
      this.log(`${this.file} is corrupt (${r.problem}); set aside as ${r.setAside}; starting without it, the control plane sends the latest policy at connection`);
      return null;
    }
    if (r.state === 'missing') return null;
    // a policy applied before the floor file existed still counts
    if (r.value.version > this.floor) this.floor = r.value.version;
    return r.value;
  }
}
