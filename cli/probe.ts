// `vigil probe`: what this kernel supports (hooks, event sources, the
// strongest enforcement per event family) and, with --rules, how each rule
// would be enforced here.
import { Option, type Command } from 'commander';
import { vigilCommand, type CliIo } from './args';

interface Values {
  json?: boolean;
  rules?: string[];
}

export function probeCommand(io?: CliIo): Command {
  const cmd = vigilCommand('probe', 'what this kernel supports: hooks, event sources, enforcement modes (per rule with --rules)')
    .addOption(new Option('--json', 'as JSON'))
    .addOption(new Option('--rules <path...>', 'also say how these rules are enforced on this kernel'));
  if (io) cmd.action(async (v: Values) => io.exit(await runProbe(v, io.out)));
  return cmd;
}

async function runProbe(v: Values, out: NodeJS.WritableStream): Promise<number> {
  const { probeKernel, featuresText } = await import('../agent/kernel/features');
  const f = probeKernel();
  out.write(v.json ? JSON.stringify(f, null, 2) + '\n' : featuresText(f));
  if (v.rules) {
    const { checkRules } = await import('../agent/rules/check');
    out.write('\nrules:\n' + checkRules(v.rules).text);
  }
  return 0;
}
