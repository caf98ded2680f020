// Where the Vigil installation is: the directory holding Vigil's
// package.json, found by walking up from this file (dist/common/repo.js in a
// build, /opt/vigil/dist/common/repo.js in an image). Every path to a file we
// ship (the BPF objects, the addon, the proto contract, the default rules)
// starts here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from './errors';

let root: string | undefined;

export function repoRoot(): string {
  if (root !== undefined) return root;
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'vigil') return (root = dir);
      } catch {
        // not ours: keep walking
      }
    }
    dir = path.dirname(dir);
  }
  throw new VigilError('NOT_BUILT', `locating the Vigil installation from ${__dirname}: no package.json of "vigil" above it`);
}

/** The gRPC contract between agent and control plane. */
export function protoFile(): string {
  const p = path.join(repoRoot(), 'proto', 'vigil', 'v1', 'vigil.proto');
  if (!fs.existsSync(p)) throw new VigilError('NOT_BUILT', `loading the gRPC contract: ${p} is missing`);
  return p;
}
