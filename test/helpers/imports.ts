// The import graph of Vigil's own TypeScript, read with TypeScript's parser:
// which file imports which, whether only for types (erased at run time), and
// whether lazily (import() inside a function). The layout test checks the
// package arrows on it; the Docker test, what the control-plane image ships.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { repoRoot } from '../../common/repo';

export interface ImportEdge {
  /** repository-relative, without .ts */
  from: string;
  to: string;
  /** `import type` / `export type`, or every name imported as a type: gone at run time */
  typeOnly: boolean;
  /** import('...') or require('...') inside code: loaded when that code runs */
  lazy: boolean;
}

export const SOURCE_DIRS = ['common', 'agent', 'controlplane', 'cli'] as const;

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(path.relative(root, p).replace(/\.ts$/, ''));
    }
  };
  walk(path.join(root, dir));
  return out;
}

/** The relative imports of one file (text given, for the checks of the checker). */
export function importsOf(file: string, text: string, exists: (mod: string) => boolean): ImportEdge[] {
  const sf = ts.createSourceFile(file + '.ts', text, ts.ScriptTarget.ES2022, true);
  const edges: ImportEdge[] = [];
  const add = (spec: string, typeOnly: boolean, lazy: boolean): void => {
    if (!spec.startsWith('.')) return;
    let to = path.normalize(path.join(path.dirname(file), spec));
    if (!exists(to) && exists(path.join(to, 'index'))) to = path.join(to, 'index');
    edges.push({ from: file, to, typeOnly, lazy });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const allTypes = c !== undefined && (c.isTypeOnly || (c.name === undefined && named !== null && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier.text, allTypes, false);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text, n.isTypeOnly, false);
    } else if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])) {
      const callee = n.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(n.arguments[0].text, false, true);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n.argument.literal.text, true, false);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return edges;
}

/** Every edge between Vigil's source files. */
export function importGraph(root = repoRoot()): ImportEdge[] {
  const files = SOURCE_DIRS.flatMap((d) => sourceFiles(root, d));
  const known = new Set(files);
  return files.flatMap((f) => importsOf(f, fs.readFileSync(path.join(root, f + '.ts'), 'utf8'), (m) => known.has(m)));
}

/** The files loaded at run time when `start` is: eager imports that are not type-only, followed transitively. */
export function runtimeClosure(graph: readonly ImportEdge[], start: readonly string[]): Set<string> {
  const seen = new Set<string>(start);
  const todo = [...start];
  while (todo.length) {
    const f = todo.pop() as string;
    for (const e of graph) {
      if (e.from !== f || e.typeOnly || e.lazy || seen.has(e.to)) continue;
      seen.add(e.to);
      todo.push(e.to);
    }
  }
  return seen;
}

/** What the control plane (and the command that starts it) load at run time, outside common/, controlplane/ and cli/. */
export function controlPlaneAgentFiles(graph: readonly ImportEdge[]): string[] {
  const closure = runtimeClosure(graph, ['cli/main', 'controlplane/controlplane']);
  return [...closure].filter((f) => f.startsWith('agent/')).sort();
}
