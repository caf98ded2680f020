// Outputs as configured (the control plane's --vdp-config `outputs:`, the
// agent's --outputs FILE): a list of webhook, falcosidekick and syslog
// entries. Secrets are named (a file or an environment variable), never
// written in the file. Errors name the key path.
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { errorMessage, VigilError } from '../errors';
import { splitHostPort } from '../host-port';
import { readSecret } from '../secret';
import { FalcosidekickOutput } from './falcosidekick';
import type { Output } from './output';
import { SyslogOutput } from './syslog';
import { WebhookOutput } from './webhook';

export type OutputConfig =
  | { type: 'webhook'; name: string; url: string; secret?: { file?: string; env?: string }; caFile?: string; timeoutMs: number; minPriority: string }
  | { type: 'falcosidekick'; name: string; url: string; caFile?: string; timeoutMs: number; minPriority: string }
  | { type: 'syslog'; name: string; address: string; tls: boolean; caFile?: string; serverName?: string; facility: number; format: 'json' | 'text'; timeoutMs: number; minPriority: string };

const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];

function fail(at: string, msg: string): never {
  throw new VigilError('BAD_ARGUMENT', `${at}: ${msg}`);
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || !v) fail(at, 'expected a non-empty string');
  return v;
}

function optStr(v: unknown, at: string): string | undefined {
  return v === undefined ? undefined : str(v, at);
}

const KEYS: Record<OutputConfig['type'], string[]> = {
  webhook: ['type', 'name', 'url', 'secret_file', 'secret_env', 'ca_file', 'timeout_seconds', 'min_priority'],
  falcosidekick: ['type', 'name', 'url', 'ca_file', 'timeout_seconds', 'min_priority'],
  syslog: ['type', 'name', 'address', 'tls', 'ca_file', 'server_name', 'facility', 'format', 'timeout_seconds', 'min_priority'],
};

/** The `outputs:` list (already parsed from YAML). */
export function parseOutputs(v: unknown, at: string): OutputConfig[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(at, 'expected a list of outputs');
  const names = new Set<string>();
  return v.map((x, i): OutputConfig => {
    const here = `${at}[${i}]`;
    if (!x || typeof x !== 'object' || Array.isArray(x)) fail(here, 'expected a map');
    const o = x as Record<string, unknown>;
    const type = str(o.type, `${here}.type`);
    if (type !== 'webhook' && type !== 'falcosidekick' && type !== 'syslog') fail(`${here}.type`, `expected webhook, falcosidekick or syslog, got "${type}"`);
    for (const k of Object.keys(o)) if (!KEYS[type].includes(k)) fail(here, `unknown key "${k}" for a ${type} output (expected ${KEYS[type].join(', ')})`);
    const name = optStr(o.name, `${here}.name`) ?? `${type}-${i}`;
    if (names.has(name)) fail(`${here}.name`, `two outputs named "${name}"`);
    names.add(name);
    const t = o.timeout_seconds === undefined ? 10 : Number(o.timeout_seconds);
    if (!Number.isFinite(t) || t <= 0 || t > 300) fail(`${here}.timeout_seconds`, 'expected seconds from 0 to 300');
    const minPriority = optStr(o.min_priority, `${here}.min_priority`) ?? 'debug';
    if (!PRIORITIES.includes(minPriority)) fail(`${here}.min_priority`, `expected one of ${PRIORITIES.join(', ')}`);
    const caFile = optStr(o.ca_file, `${here}.ca_file`);
    if (type === 'syslog') {
      const address = str(o.address, `${here}.address`);
      try {
        splitHostPort(address);
      } catch (err) {
        fail(`${here}.address`, errorMessage(err));
      }
      const facility = o.facility === undefined ? 13 : Number(o.facility);
      if (!Number.isInteger(facility) || facility < 0 || facility > 23) fail(`${here}.facility`, 'expected a syslog facility number from 0 to 23');
      const format = o.format === undefined ? 'json' : str(o.format, `${here}.format`);
      if (format !== 'json' && format !== 'text') fail(`${here}.format`, 'expected json or text');
      return { type, name, address, tls: o.tls === true, caFile, serverName: optStr(o.server_name, `${here}.server_name`), facility, format, timeoutMs: t * 1000, minPriority };
    }
    const url = str(o.url, `${here}.url`);
    if (!/^https?:\/\//.test(url)) fail(`${here}.url`, 'expected an http(s) URL');
    if (type === 'falcosidekick') return { type, name, url, caFile, timeoutMs: t * 1000, minPriority };
    const secret = o.secret_file !== undefined || o.secret_env !== undefined ? { file: optStr(o.secret_file, `${here}.secret_file`), env: optStr(o.secret_env, `${here}.secret_env`) } : undefined;
    return { type, name, url, secret, caFile, timeoutMs: t * 1000, minPriority };
  });
}

/** An outputs file of its own (the agent's --outputs): `outputs: [...]`. */
export function loadOutputsFile(file: string): OutputConfig[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `${file}: malformed YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  const o = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'outputs') throw new VigilError('BAD_ARGUMENT', `${file}: unknown key "${k}" (expected outputs)`);
  try {
    return parseOutputs(o.outputs, 'outputs');
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `${file}: ${errorMessage(err)}`);
  }
}

/** The output a configuration describes. */
export function openOutput(c: OutputConfig): Output {
  switch (c.type) {
    case 'webhook': {
      const where = c.secret;
      if (where) readSecret(where, `output ${c.name} secret`);
      return new WebhookOutput(c.name, c.url, where ? () => readSecret(where, `output ${c.name} secret`) : null, { caFile: c.caFile, timeoutMs: c.timeoutMs });
    }
    case 'falcosidekick':
      return new FalcosidekickOutput(c.name, c.url, { caFile: c.caFile, timeoutMs: c.timeoutMs });
    case 'syslog': {
      const [host, port] = splitHostPort(c.address);
      return new SyslogOutput(c.name, { host, port, tls: c.tls, caFile: c.caFile, serverName: c.serverName, facility: c.facility, format: c.format, timeoutMs: c.timeoutMs });
    }
  }
}

export function priorityAtLeast(priority: string, min: string): boolean {
  const p = PRIORITIES.indexOf(priority);
  return (p < 0 ? PRIORITIES.length : p) <= PRIORITIES.indexOf(min);
}
