// The `vigil` command line.
import { parseAgentArgs, runAgent } from './agent';
import { VigilError, errorMessage } from './errors';
import { featuresText, probeKernel } from './kernel-features';
import { checkRules } from './rules-check';
import { parseTraceArgs, runTrace } from './trace';

const USAGE = `usage: vigil <command> [options]

commands:
  trace [--output json|text] [--cgroup PATH]... [--kinds exec,open,...] [--details] [--duration S]
        stream kernel events, one JSON object per line; Ctrl-C prints a summary to stderr
  agent --rules PATH... [--identities FILE] [--output json|text] [--node NAME]
        match rules about SPIFFE workloads; alert, kill or deny; one JSON alert per line
        (reloads the rules on SIGHUP and when a rules file changes)
  rules check PATH... [--identities FILE]
        validate rules without running them; print how each rule is enforced here
  probe [--json] [--rules PATH...]
        what this kernel supports: hooks, event sources, enforcement modes (per rule with --rules)
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'trace': {
        const opts = parseTraceArgs(rest);
        await runTrace({ ...opts, out: process.stdout, err: process.stderr });
        return 0;
      }
      case 'probe': {
        const f = probeKernel();
        process.stdout.write(rest.includes('--json') ? JSON.stringify(f, null, 2) + '\n' : featuresText(f));
        const ri = rest.indexOf('--rules');
        if (ri >= 0) {
          const paths = rest.slice(ri + 1).filter((a) => !a.startsWith('--'));
          process.stdout.write('\nrules:\n' + checkRules(paths).text);
        }
        return 0;
      }
      case 'agent': {
        const opts = parseAgentArgs(rest);
        await runAgent({ ...opts, out: process.stdout, err: process.stderr });
        return 0;
      }
      case 'rules': {
        const [sub, ...paths] = rest;
        if (sub !== 'check') throw new VigilError('BAD_ARGUMENT', `vigil rules: unknown subcommand "${sub ?? ''}" (expected check)`);
        let identities: string | undefined;
        const files: string[] = [];
        for (let i = 0; i < paths.length; i++) {
          if (paths[i] === '--identities') identities = paths[++i];
          else files.push(paths[i]);
        }
        if (files.length === 0) throw new VigilError('BAD_ARGUMENT', 'vigil rules check: expected PATH...');
        process.stdout.write(checkRules(files, identities).text);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`vigil: unknown command "${cmd}"\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof VigilError) {
      // rule and identity errors carry their own file:line:col
      const prefix = err.code === 'RULES' || err.code === 'IDENTITIES' ? '' : `vigil ${cmd}: `;
      process.stderr.write(`${prefix}${err.message}\n`);
      return err.code === 'BAD_ARGUMENT' ? 2 : 1;
    }
    process.stderr.write(`vigil ${cmd}: ${errorMessage(err)}\n`);
    return 1;
  }
}
