// The package arrows of docs/architecture.md, checked on the real import
// graph: common/ <- agent/, common/ <- controlplane/ (+ the rules loader it
// validates policy with), cli/ imports both; the control plane never loads
// the addon; the rules stage never reaches the kernel beyond the ABI.
import * as assert from 'node:assert/strict';
import { controlPlaneAgentFiles, importGraph, importsOf, runtimeClosure, type ImportEdge } from './helpers/imports';

const pkg = (f: string): string => f.split('/')[0];
const describeEdge = (e: ImportEdge): string => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}${e.lazy ? ' (lazy)' : ''}`;

/** Every way an edge can break the arrows; empty when it keeps them. */
export function violations(graph: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const e of graph) {
    const from = pkg(e.from);
    const to = pkg(e.to);
    if (from === 'common' && to !== 'common') out.push(`common/ imports nothing of ours: ${describeEdge(e)}`);
    if (from === 'agent' && (to === 'controlplane' || to === 'cli')) out.push(`the agent never imports ${to}/: ${describeEdge(e)}`);
    if (from === 'controlplane' && to === 'cli') out.push(`the control plane never imports cli/: ${describeEdge(e)}`);
    if (from === 'controlplane' && to === 'agent' && e.to !== 'agent/rules/policy') out.push(`the control plane imports only agent/rules/policy of the agent: ${describeEdge(e)}`);
    if (e.from.startsWith('agent/rules/') && e.to.startsWith('agent/kernel/') && e.to !== 'agent/kernel/abi') out.push(`rules reach the kernel only through its ABI: ${describeEdge(e)}`);
    if (from !== 'cli' && e.lazy) out.push(`only cli/ loads modules lazily (what is loaded must be visible): ${describeEdge(e)}`);
  }
  return out;
}

/** The agent files the control plane may load: the rules loader it validates policy with, and the ABI constants rules use. */
export const CONTROLPLANE_MAY_LOAD = /^agent\/(rules\/(policy|compile|load|load-match|rules-reader|spec|glob)|kernel\/abi)$/;

describe('layout: the package arrows', () => {
  const graph = importGraph();

  it('reads the real tree (the graph is not empty, and sees every kind of import)', () => {
    assert.ok(graph.length > 200, `${graph.length} edges`);
    assert.ok(graph.some((e) => e.typeOnly) && graph.some((e) => e.lazy) && graph.some((e) => !e.typeOnly && !e.lazy));
  });

  it('common/ imports nothing of ours; the agent never imports the control plane or cli/; the control plane only the policy loader', () => {
    assert.deepEqual(violations(graph), []);
  });

  it('the control plane and the vigil command load no agent code but the rules loader and the ABI (never the addon)', () => {
    const files = controlPlaneAgentFiles(graph);
    assert.ok(files.includes('agent/rules/policy'), files.join(', '));
    for (const f of files) assert.match(f, CONTROLPLANE_MAY_LOAD);
    assert.ok(!files.includes('agent/kernel/native'));
  });

  it('the checks themselves can fail', () => {
    const fake = (from: string, text: string): ImportEdge[] => importsOf(from, text, () => true);
    const bad = [
      ...fake('common/x', "import { a } from '../agent/agent';"),
      ...fake('agent/x', "import type { B } from '../controlplane/store';"),
      ...fake('agent/y', "export { c } from '../cli/args';"),
      ...fake('controlplane/x', "import { d } from '../agent/kernel/native';"),
      ...fake('agent/rules/x', "import { e } from '../kernel/probe';"),
      ...fake('agent/z', "async function f() { await import('./w'); }"),
    ];
    assert.equal(violations(bad).length, 6, violations(bad).join('\n'));
    const ok = fake('cli/x', "import type { A } from '../agent/agent';\nconst m = () => import('../agent/agent');\nimport { B } from '../common/errors';");
    assert.deepEqual(
      ok.map((e) => [e.to, e.typeOnly, e.lazy]),
      [
        ['agent/agent', true, false],
        ['agent/agent', false, true],
        ['common/errors', false, false],
      ],
    );
    assert.deepEqual(violations(ok), []);
    // a type-only import is not loaded at run time; an eager one is, transitively
    const chain = [...fake('cli/main', "import { a } from '../agent/a';\nimport type { T } from '../agent/t';"), ...fake('agent/a', "import { n } from './kernel/native';")];
    assert.deepEqual([...runtimeClosure(chain, ['cli/main'])].sort(), ['agent/a', 'agent/kernel/native', 'cli/main']);
  });
});
