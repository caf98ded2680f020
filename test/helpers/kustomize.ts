// Rendering the kustomize overlays of deploy/kubernetes with the kubectl
// users run (`kubectl kustomize DIR`), and reading what it prints.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../common/repo';
import type { KubeObject } from './k8s-schema';

export const KUBERNETES_DIR = (): string => path.join(repoRoot(), 'deploy', 'kubernetes');

/** The overlays a user can apply: every directory of deploy/kubernetes/overlays. */
export function overlayNames(): string[] {
  const dir = path.join(KUBERNETES_DIR(), 'overlays');
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'kustomization.yaml')))
    .map((d) => d.name)
    .sort();
}

/** `kubectl kustomize DIR`, without extra flags (no --load-restrictor). */
export function kustomize(dir: string): string {
  try {
    return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('kubectl not found: these tests render the manifests with `kubectl kustomize` (kubectl ≥ 1.27, kustomize 5)');
    throw new Error(`kubectl kustomize ${path.relative(repoRoot(), dir) || dir}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Every YAML document of a multi-document text, parse errors included. */
export function parseObjects(text: string, what: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${what}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const o = doc.toJS() as KubeObject | null;
    if (o) out.push(o);
  }
  return out;
}

export function render(dir: string): KubeObject[] {
  return parseObjects(kustomize(dir), path.relative(repoRoot(), dir) || dir);
}
