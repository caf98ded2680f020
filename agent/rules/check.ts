// `vigil rules check PATH...`: validate rules without running, and say how
// each rule would be enforced on this kernel.
import { EventKind, KIND_NAMES } from '../kernel/abi';
import { RuleSet } from './compile';
import { buildKernelPlan } from '../enforce/kernel-plan';
import { WorkloadTable } from '../workload/workload-table';
import { loadRuleFiles } from './load';
import { StaticIdentitySource } from '../workload/static-source';

export interface CheckReport {
  text: string;
  rules: number;
}

export function checkRules(paths: string[], identities?: string): CheckReport {
  const spec = loadRuleFiles(paths);
  const rs = new RuleSet(spec);
  const ids = identities ? StaticIdentitySource.load(identities) : StaticIdentitySource.empty();
  const table = new WorkloadTable();
  for (const id of ids.spiffeIds()) table.index(id);
  const plan = buildKernelPlan(rs, table, ids.addresses(), 1);
  const lines: string[] = [];
  lines.push(`${spec.files.join(', ')}: ${spec.rules.length} rules, ${spec.lists.size} lists: OK`);
  const w = Math.max(4, ...spec.rules.map((r) => r.name.length));
  lines.push(`  ${'rule'.padEnd(w)}  ${'on'.padEnd(7)}  ${'action'.padEnd(6)}  enforcement on this kernel`);
  for (const r of spec.rules) {
    const c = rs.rules.find((x) => x.name === r.name);
    const how = c ? c.enforcementWhy : 'disabled';
    lines.push(`  ${r.name.padEnd(w)}  ${r.on.padEnd(7)}  ${r.action.padEnd(6)}  ${how}`);
  }
  const names = (mask: number): string =>
    [...KIND_NAMES].filter((k) => mask & (1 << EventKind[k])).join(', ') || 'none';
  lines.push(`  kernel: reports ${[...plan.kinds].join(', ') || 'nothing'} (plus exec, fork, exit for the process cache)`);
  lines.push(`  kernel: drops events of ${names(plan.pathFilterKinds)} whose path no rule names`);
  lines.push(`  kernel: ${plan.scoped ? 'watches only the cgroups of the rules\' workloads' : 'watches every process (some rule applies to every process or to host)'}`);
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return { text: lines.join('\n') + '\n', rules: spec.rules.length };
}
