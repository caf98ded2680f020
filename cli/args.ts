// The one command-line parser: commander (the most used Node parser, no
// dependencies) for every subcommand, so that each one refuses unknown
// options with the same message, has --help, takes `--flag value`,
// `--flag=value` and `--flag v1 v2 ...` for path lists the same way; plus the
// value checks options share (seconds, json|text, HOST:PORT, TLS files).
// Why commander and not node:util.parseArgs: parseArgs has no help, no
// subcommands and no variadic options, all of which we would write by hand.
import { Command, CommanderError, Option } from 'commander';
import { errorMessage, VigilError } from '../common/errors';
import type { Loaded } from '../controlplane/reach/parse/json-shape';
import { splitHostPort } from '../common/host-port';
import type { TlsFlags } from '../common/spiffe/tls-files';

/** What a command's action writes to and how it says its exit status (cli/exit-codes.ts). */
export interface CliIo {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
  exit(code: number): void;
}

/** A subcommand, set up the way every vigil command is: errors thrown (not printed), help on --help. */
export function vigilCommand(name: string, summary: string): Command {
  return throwErrors(new Command(name))
    .description(summary)
    .configureOutput({ outputError: () => undefined })
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false);
}

/** `vigil NAME` as users write it (`vigil policy push`), for messages. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Commander's errors in our words: `vigil agent: unknown option "--bogus" (see vigil agent --help)`.
 * Returns null for the help and version "errors" (they are not failures).
 */
export function usageError(err: CommanderError, cmd: Command): VigilError | null {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return null;
  const where = commandPath(cmd);
  const see = `(see ${where} --help)`;
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption': {
      // --switch=value: commander sees an unknown option; say what is wrong with it
      const eq = quoted.indexOf('=');
      if (eq > 0) {
        const flag = quoted.slice(0, eq);
        const known = cmd.options.find((o) => o.long === flag);
        if (known && !known.required && !known.optional) return new VigilError('BAD_ARGUMENT', `${where}: ${flag} takes no value`);
      }
      return new VigilError('BAD_ARGUMENT', `${where}: unknown option "${quoted}" ${see}`);
    }
    case 'commander.optionMissingArgument':
      return new VigilError('BAD_ARGUMENT', `${where}: ${quoted.split(' ')[0]}: expected a value`);
    case 'commander.missingArgument': {
      const arg = cmd.registeredArguments.find((a) => a.name() === quoted);
      return new VigilError('BAD_ARGUMENT', `${where}: expected ${quoted.toUpperCase()}${arg?.variadic ? '...' : ''} ${see}`);
    }
    case 'commander.excessArguments': {
      const extra = cmd.args.slice(cmd.registeredArguments.length);
      return new VigilError('BAD_ARGUMENT', `${where}: unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => `"${a}"`).join(' ')} ${see}`);
    }
    case 'commander.unknownCommand':
      return new VigilError(
        'BAD_ARGUMENT',
        `${where}: unknown ${cmd.parent ? 'subcommand' : 'command'} "${quoted}" (expected ${cmd.commands.map((c) => c.name()).join(', ')})`,
      );
    case 'commander.missingMandatoryOptionValue':
      return new VigilError('BAD_ARGUMENT', `${where}: ${quoted.split(' ')[0]} is required ${see}`);
    default:
      return new VigilError('BAD_ARGUMENT', `${where}: ${err.message.replace(/^error: /, '')}`);
  }
}

// ---- value checks (commander calls them as each option is read) ----------

/** json or text. */
export function outputFormat(flag = '--output'): (v: string) => 'json' | 'text' {
  return (v) => {
    if (v !== 'json' && v !== 'text') throw new VigilError('BAD_ARGUMENT', `${flag}: expected json or text, got "${v}"`);
    return v;
  };
}

/** Seconds, as milliseconds: > 0, or from min to max when given. */
export function seconds(flag: string, min?: number, max?: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    const ok = v.trim() !== '' && Number.isFinite(n) && (min === undefined ? n > 0 : n >= min) && (max === undefined || n <= max);
    if (!ok) {
      throw new VigilError('BAD_ARGUMENT', `${flag}: expected seconds ${min === undefined ? '> 0' : `from ${min}${max === undefined ? '' : ` to ${max}`}`}`);
    }
    return n * 1000;
  };
}

/** A duration: 7d, 12h, 30m, 10s, 500ms (a bare number is seconds), as milliseconds. */
export function durationMs(flag: string): (v: string) => number {
  return (v) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v.trim());
    const mult = m ? { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'] : NaN;
    const n = m ? Math.round(Number(m[1]) * mult) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw new VigilError('BAD_ARGUMENT', `${flag}: expected a duration such as 7d, 12h, 30m, 10s or 500ms, got "${v}"`);
    return n;
  };
}

/** A whole number from min to max. */
export function integer(flag: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new VigilError('BAD_ARGUMENT', `${flag}: expected a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

/** HOST:PORT, checked as it is read. */
export function hostPort(flag: string): (v: string) => string {
  return (v) => {
    try {
      splitHostPort(v);
    } catch {
      throw new VigilError('BAD_ARGUMENT', `${flag}: "${v}": expected HOST:PORT`);
    }
    return v;
  };
}

/**
 * A required option, checked after parsing (commander's requiredOption is
 * checked before unknown options are, so `--bogus` would be reported as a
 * missing --dir).
 */
export function need<T>(value: T | undefined, flag: string, cmd: Command): T {
  if (value === undefined) throw new VigilError('BAD_ARGUMENT', `${commandPath(cmd)}: ${flag} is required (see ${commandPath(cmd)} --help)`);
  return value;
}

/** Repeatable options (`--cgroup A --cgroup B`) collect into a list. */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

// ---- TLS options: the same flags on every command that talks mTLS --------

/** The TLS flags as commander reads them: TlsFlags' files (--certs for certsDir), and two more. */
export interface TlsOptionValues extends Omit<TlsFlags, 'certsDir'> {
  certs?: string;
  serverId?: string;
  insecure?: boolean;
}

/** --vdp-config FILE: the one definition, for `vigil controlplane` and `vigil up` (docs/vdp.md). */
export function vdpConfigOption(): Option {
  return new Option('--vdp-config <file>', 'advisories, ticket sinks (GitHub, Jira) and outputs (webhook, falcosidekick, syslog): docs/vdp.md');
}

/** --certs DIR, or single files as SPIRE or a Secret provides them (which win over DIR); --insecure warns. */
export function tlsOptions(cmd: Command, o: { policyKey: boolean; serverId: boolean }): Command {
  cmd
    .addOption(new Option('--certs <dir>', 'a `vigil certs` directory: bundle, SVID, key, policy key'))
    .addOption(new Option('--bundle <file>', 'trust bundle (PEM), wins over --certs'))
    .addOption(new Option('--cert <file>', 'our X.509-SVID (PEM), wins over --certs'))
    .addOption(new Option('--key <file>', "our SVID's private key, wins over --certs"))
    .addOption(new Option('--trust-domain <td>', 'our trust domain (default: DIR/trust-domain, else from our SVID)'));
  if (o.policyKey) {
    cmd.addOption(new Option('--policy-key <file>', 'policy key: public on agents (verify), private on the control plane (sign)'));
    cmd.addOption(new Option('--log-key <file>', "the audit log's checkpoint key: public on agents (witness), private on the control plane (sign); default DIR/log.pub or log.key, else the policy key"));
  }
  if (o.serverId) cmd.addOption(new Option('--server-id <id>', "the control plane's SPIFFE ID (default spiffe://TD/vigil/controlplane)"));
  return cmd.addOption(new Option('--insecure', 'plaintext, no authentication (for experiments only: warned about)'));
}

/** The TLS files given (absent ones left out, so that defaults apply). */
export function tlsFlags(v: TlsOptionValues): TlsFlags {
  const all: TlsFlags = { certsDir: v.certs, trustDomain: v.trustDomain, bundle: v.bundle, cert: v.cert, key: v.key, policyKey: v.policyKey, logKey: v.logKey };
  return Object.fromEntries(Object.entries(all).filter(([, x]) => x !== undefined)) as TlsFlags;
}

/** True when any TLS option was given (they need a --controlplane to go with them on the agent). */
export function anyTlsOption(v: TlsOptionValues): boolean {
  return [v.certs, v.trustDomain, v.bundle, v.cert, v.key, v.policyKey, v.logKey, v.serverId].some((x) => x !== undefined) || v.insecure === true;
}

/**
 * A JSON document given as a file argument (an SBOM, a scanner report), read with the
 * document size limit and shaped by `parse`: what is wrong with it is a BAD_ARGUMENT naming
 * the file and the JSON path. The reader is loaded only by the commands that take such a file.
 */
export async function jsonFileArgument<T>(file: string, parse: (doc: Loaded) => T): Promise<T> {
  const { readJsonFile } = await import('../controlplane/reach/parse/json-shape');
  try {
    return parse(readJsonFile(file));
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', errorMessage(err));
  }
}

// ---- parsing ---------------------------------------------------------------

/** Where each commander error came from (the command whose options were being read). */
const origin = new WeakMap<CommanderError, Command>();

/** Throw commander's errors (never print or exit), remembering which command raised them. */
export function throwErrors(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    origin.set(err, cmd);
    throw err;
  });
}

/** The command an error came from (for its name and options in the message). */
export function errorOrigin(err: CommanderError, fallback: Command): Command {
  return origin.get(err) ?? fallback;
}

/** Parse one command's arguments into its option values; errors as VigilError (BAD_ARGUMENT). */
export function parseWith<V>(cmd: Command, argv: readonly string[]): V {
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const e = usageError(err, errorOrigin(err, cmd));
      if (e) throw e;
    }
    throw err;
  }
  return cmd.opts<V & Record<string, unknown>>();
}
