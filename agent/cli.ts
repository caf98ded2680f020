// The `vigil` command line.
import { VigilError, errorMessage } from './errors';
import { featuresText, probeKernel } from './kernel-features';
import { parseTraceArgs, runTrace } from './trace';

const USAGE = `usage: vigil <command> [options]

commands:
  trace [--output json|text] [--cgroup PATH]... [--kinds exec,open,...] [--details] [--duration S]
        stream kernel events, one JSON object per line; Ctrl-C prints a summary to stderr
  probe [--json]
        what this kernel supports: hooks, event sources, enforcement modes
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
      process.stderr.write(`vigil ${cmd}: ${err.message}\n`);
      return err.code === 'BAD_ARGUMENT' ? 2 : 1;
    }
    process.stderr.write(`vigil ${cmd}: ${errorMessage(err)}\n`);
    return 1;
  }
}
