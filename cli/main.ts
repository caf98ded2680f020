// The `vigil` command: one parser (cli/args.ts) for every subcommand, one
// file per subcommand, one table from errors to exit codes (cli/exit-codes.ts).
//
// Command files import what they run lazily (inside their actions): `vigil
// controlplane` loads no agent code and `vigil agent` no store, and the
// control-plane image, which ships no agent, still runs this file.
import { CommanderError, type Command } from 'commander';
import { errorMessage, VigilError, type ErrorCode } from '../common/errors';
import { VIGIL_VERSION } from '../common/version';
import { CpError } from '../controlplane/errors';
import { agentsCommand, alertsCommand, policyCommand } from './admin';
import { advisoriesCommand } from './advisories';
import { agentCommand } from './agent';
import { commandPath, errorOrigin, usageError, vigilCommand, type CliIo } from './args';
import { auditCommand } from './audit';
import { certsCommand } from './certs';
import { controlplaneCommand } from './controlplane';
import { gateCommand } from './gate';
import { Exit } from './exit-codes';
import { probeCommand } from './probe';
import { quarantineCommand } from './quarantine';
import { rulesCommand } from './rules';
import { ticketsCommand } from './tickets';
import { sbomCommand } from './sbom';
import { traceCommand } from './trace';
import { upCommand } from './up';
import { vexCommand } from './vex';

const EPILOGUE = `
TLS (agent, controlplane, alerts, agents, policy push): --certs DIR (from vigil certs), or single
files as SPIRE or a Secret provides them, which win over DIR: --bundle FILE --cert FILE --key FILE
[--trust-domain TD] [--policy-key FILE]; the trust domain defaults to DIR/trust-domain, else to
the one in our own SVID. After vigil up, alerts, agents, policy push and audit need no flags on
the same host.

Exit status: 0 ok; 1 failed, or a check found a problem; 2 bad command line (nothing was done);
3 the control plane cannot be reached; 4 the control plane refused the call.
`;

const EXIT_FOR: Partial<Record<ErrorCode, number>> = {
  BAD_ARGUMENT: Exit.USAGE,
  UNAVAILABLE: Exit.UNAVAILABLE,
  REFUSED: Exit.REFUSED,
};

export function program(io: CliIo): Command {
  const root = vigilCommand('vigil', 'eBPF runtime security: SPIFFE workloads, rules enforced in the kernel, a control plane')
    .usage('<command> [options]')
    .version(VIGIL_VERSION, '-V, --version', 'print the version')
    .addCommand(upCommand(io))
    .addCommand(agentCommand(io))
    .addCommand(controlplaneCommand(io))
    .addCommand(alertsCommand(io))
    .addCommand(agentsCommand(io))
    .addCommand(policyCommand(io))
    .addCommand(auditCommand(io))
    .addCommand(advisoriesCommand(io))
    .addCommand(gateCommand(io))
    .addCommand(quarantineCommand(io))
    .addCommand(ticketsCommand(io))
    .addCommand(sbomCommand(io))
    .addCommand(vexCommand(io))
    .addCommand(certsCommand(io))
    .addCommand(rulesCommand(io))
    .addCommand(traceCommand(io))
    .addCommand(probeCommand(io))
    .helpCommand('help [command]', 'help for a command')
    .addHelpText('after', EPILOGUE);
  // help goes to the command's stdout; errors are ours to word (cli/args.ts usageError)
  const route = (c: Command): void => {
    c.configureOutput({ writeOut: (s) => void io.out.write(s), writeErr: (s) => void io.err.write(s), outputError: () => undefined });
    c.commands.forEach(route);
  };
  route(root);
  return root;
}

/** Run `vigil ARGV...`; resolves with the exit status. */
export async function main(argv: string[], out: CliIo['out'] = process.stdout, err: CliIo['err'] = process.stderr): Promise<number> {
  let code: number = Exit.OK;
  const io: CliIo = { out, err, exit: (c) => (code = c) };
  // a reader that goes away (`vigil alerts | head`) is not an error: commands that stream stop on their own
  out.on('error', () => undefined);
  const root = program(io);
  // the command whose options are being read (errors from value checks name it)
  let active: Command = root;
  const track = (c: Command): void => {
    c.hook('preSubcommand', (_self, sub) => {
      active = sub;
    });
    c.commands.forEach(track);
  };
  track(root);
  if (argv.length === 0) {
    out.write(root.helpInformation());
    return Exit.USAGE;
  }
  try {
    await root.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      const where = errorOrigin(e, root);
      const u = usageError(e, where);
      if (!u) return Exit.OK; // --help, --version
      err.write(`${u.message}${where === root ? '\nrun vigil help for the commands' : ''}\n`);
      return Exit.USAGE;
    }
    const who = commandPath(active);
    const say = (m: string): void => void err.write(`${/^vigil[ :]/.test(m) ? '' : `${who}: `}${m}\n`);
    if (e instanceof VigilError) {
      // rule and identity errors start with their own file:line:col
      if (e.code === 'RULES' || e.code === 'IDENTITIES' || e.code === 'EVENTS') err.write(`${e.message}\n`);
      else say(e.message);
      return EXIT_FOR[e.code] ?? Exit.FAILED;
    }
    if (e instanceof CpError) {
      say(e.message);
      return e.code === 'CONFIG' ? Exit.USAGE : Exit.FAILED;
    }
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      say(`not part of this installation (the control-plane image carries the control plane and the admin commands only): ${errorMessage(e).split('\n')[0]}`);
      return Exit.FAILED;
    }
    say(errorMessage(e));
    return Exit.FAILED;
  }
}
