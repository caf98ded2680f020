// Kubernetes objects checked against the API's schemas, from the
// kubernetes-models packages (Kubernetes 1.33 core, apps, rbac, scheduling...;
// @kubernetes-models/prometheus-operator for ServiceMonitor and PrometheusRule).
//
// Two checks, because the packages' validators (JSON Schema, compiled by ajv)
// accept fields the schema does not name, and a misspelt field is the one
// mistake that matters most in a security manifest (`readOnlyRootFileSystem`
// is silently ignored by an API server that only warns):
//   1. the package's validate(): types, enums, required fields;
//   2. every field of the object must be a property of the package's
//      TypeScript declaration for that place, read with the TypeScript checker.
import * as path from 'node:path';
import * as ts from 'typescript';
import { repoRoot } from '../../common/repo';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The module of a kind's model: kubernetes-models for the API's own groups, a package per CRD group. */
function modelModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  if (group === '' || group.endsWith('.k8s.io') || ['apps', 'batch', 'autoscaling', 'policy'].includes(group)) {
    return group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
  }
  throw new Error(`${apiVersion} ${kind}: no schema package for this API group`);
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** 1. The package's own validation (throws with every problem). */
export function validateWithModel(o: KubeObject): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modelModule(o.apiVersion, o.kind)) as Record<string, ModelClass>;
  const Cls = mod[o.kind];
  if (!Cls) return [`${o.apiVersion} ${o.kind}: the package has no model for this kind`];
  try {
    new Cls(o).validate();
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/** 2. Unknown fields, against the TypeScript declarations of the same packages. */
export class FieldChecker {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  /** One program for every kind needed (a few seconds: build it once). */
  constructor(kinds: Array<{ apiVersion: string; kind: string }>) {
    const root = repoRoot();
    const file = path.join(root, '__vigil_k8s_types__.ts');
    const unique = [...new Map(kinds.map((k) => [`${k.apiVersion}/${k.kind}`, k])).values()];
    const text = unique.map((k, i) => `import type { I${k.kind} as T${i} } from '${modelModule(k.apiVersion, k.kind)}';\nexport type K${i} = T${i};\n`).join('');
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) =>
      name === file ? ts.createSourceFile(name, text, lang) : getSourceFile(name, lang, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || fileExists(name);
    const program = ts.createProgram([file], options, host);
    this.checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    const unresolved = program.getSemanticDiagnostics(source).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    if (unresolved.length) throw new Error(`loading the kubernetes-models declarations: ${unresolved.join('; ')}`);
    const moduleSymbol = source && this.checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error('loading the kubernetes-models declarations: no module');
    const exports = this.checker.getExportsOfModule(moduleSymbol);
    unique.forEach((k, i) => {
      const sym = exports.find((s) => s.name === `K${i}`);
      if (!sym) throw new Error(`loading the declaration of ${k.apiVersion} ${k.kind}`);
      this.types.set(`${k.apiVersion}/${k.kind}`, this.checker.getDeclaredTypeOfSymbol(sym));
    });
  }

  /** Every field of `o` that its kind's declaration does not have, as "path: problem". */
  unknownFields(o: KubeObject): string[] {
    const t = this.types.get(`${o.apiVersion}/${o.kind}`);
    if (!t) return [`${o.apiVersion} ${o.kind}: not loaded`];
    const out: string[] = [];
    this.walk(o, t, '', out);
    return out;
  }

  private walk(value: unknown, declared: ts.Type, where: string, out: string[]): void {
    if (value === null || value === undefined) return;
    const type = this.checker.getNonNullableType(declared);
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (type.isUnion()) {
      // e.g. IntOrString, or an optional field's type: try the members that
      // can hold this kind of value, keep the best fit
      const fits = type.types.filter((m) => this.canHold(m, value));
      if (fits.length === 0) return; // a type mismatch: the model's validate() reports it
      let best: string[] | undefined;
      for (const m of fits) {
        const e: string[] = [];
        this.walk(value, m, where, e);
        if (e.length === 0) return;
        if (!best || e.length < best.length) best = e;
      }
      out.push(...(best ?? []));
      return;
    }
    if (Array.isArray(value)) {
      if (!this.checker.isArrayType(type)) return;
      const element = this.checker.getTypeArguments(type as ts.TypeReference)[0];
      value.forEach((v, i) => this.walk(v, element, `${where}[${i}]`, out));
      return;
    }
    if (typeof value !== 'object') return;
    const props = this.checker.getPropertiesOfType(type);
    const index = this.checker.getIndexInfoOfType(type, ts.IndexKind.String);
    if (props.length === 0 && !index) return; // free-form object
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const here = where ? `${where}.${k}` : k;
      const p = props.find((s) => s.name === k);
      if (p) this.walk(v, this.checker.getTypeOfSymbol(p), here, out);
      else if (index) this.walk(v, index.type, here, out);
      else out.push(`${here}: no such field (expected one of ${props.map((s) => s.name).join(', ')})`);
    }
  }

  private canHold(t: ts.Type, value: unknown): boolean {
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return true;
    if (Array.isArray(value)) return this.checker.isArrayType(t);
    switch (typeof value) {
      case 'string':
        return (t.flags & ts.TypeFlags.StringLike) !== 0;
      case 'number':
        return (t.flags & ts.TypeFlags.NumberLike) !== 0;
      case 'boolean':
        return (t.flags & ts.TypeFlags.BooleanLike) !== 0;
      case 'object':
        return (t.flags & ts.TypeFlags.Object) !== 0 && !this.checker.isArrayType(t);
      default:
        return false;
    }
  }
}
