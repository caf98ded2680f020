// The shape of a rule once loaded: what the YAML says, checked, with the
// source offsets the compiler needs to report later problems.
import type { KindName } from '../kernel/abi';
import type { SourceFile } from '../../common/source-pos';

export const RULE_KINDS = ['exec', 'open', 'unlink', 'rename', 'chmod', 'connect', 'ptrace', 'setuid', 'mount', 'module', 'migrate', 'socket', 'io_uring'] as const;
export type RuleKind = (typeof RULE_KINDS)[number] & KindName;

export const ACTIONS = ['alert', 'kill', 'deny'] as const;
export type Action = (typeof ACTIONS)[number];

/** Falco's eight levels, most severe first. */
export const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const ACCESS = ['read', 'write', 'create', 'trunc'] as const;
export type Access = (typeof ACCESS)[number];

export interface StringMatch {
  in?: string[];
  not_in?: string[];
  prefix?: string[];
  glob?: string[];
}

export interface UidMatch {
  in?: number[];
  not_in?: number[];
}

export interface DestinationMatch {
  cidr?: string[];
  not_cidr?: string[];
  port?: number[];
  workload?: string[];
  not_workload?: string[];
}

export interface MatchSpec {
  binary?: StringMatch;
  parent_binary?: StringMatch;
  path?: StringMatch;
  new_path?: StringMatch;
  flags?: { any: Access[] };
  args?: { contains: string[] };
  uid?: UidMatch;
  destination?: DestinationMatch;
  /** exec: the executable changed (ctime) after the workload's first process started */
  drift?: boolean;
  /** exec: the executed file has no link (memfd, deleted, O_TMPFILE) */
  fileless?: boolean;
}

export type MatchKey = keyof MatchSpec;
export const MATCH_KEYS: readonly MatchKey[] = ['binary', 'parent_binary', 'path', 'new_path', 'flags', 'args', 'uid', 'destination', 'drift', 'fileless'];

/** Which `match` keys make sense for which event kind. */
export const KEYS_FOR_KIND: Record<RuleKind, readonly MatchKey[]> = {
  exec: ['binary', 'parent_binary', 'args', 'uid', 'drift', 'fileless'],
  open: ['binary', 'parent_binary', 'args', 'uid', 'path', 'flags'],
  unlink: ['binary', 'parent_binary', 'args', 'uid', 'path'],
  rename: ['binary', 'parent_binary', 'args', 'uid', 'path', 'new_path'],
  chmod: ['binary', 'parent_binary', 'args', 'uid', 'path'],
  connect: ['binary', 'parent_binary', 'args', 'uid', 'destination'],
  ptrace: ['binary', 'parent_binary', 'args', 'uid'],
  setuid: ['binary', 'parent_binary', 'args', 'uid'],
  mount: ['binary', 'parent_binary', 'args', 'uid', 'path'],
  module: ['binary', 'parent_binary', 'args', 'uid', 'path'],
  migrate: ['binary', 'parent_binary', 'args', 'uid'],
  socket: ['binary', 'parent_binary', 'args', 'uid'],
  io_uring: ['binary', 'parent_binary', 'args', 'uid'],
};

/** `workload:` absent = every process; `host` = processes in no workload. */
export interface WorkloadSpec {
  any: boolean;
  host: boolean;
  patterns: string[];
}

export interface ExceptionSpec {
  name: string;
  match: MatchSpec;
}

export interface RuleSpec {
  name: string;
  description: string;
  workload: WorkloadSpec;
  on: RuleKind;
  match: MatchSpec;
  exceptions: ExceptionSpec[];
  action: Action;
  priority: Priority;
  tags: string[];
  enabled: boolean;
  /** where it was written */
  file: SourceFile;
  offset: number;
  /** offsets of some values, for errors found later (e.g. by the compiler) */
  at: Partial<Record<'action' | 'workload' | 'on' | 'match', number>>;
}

export interface RuleSetSpec {
  files: string[];
  lists: Map<string, string[]>;
  rules: RuleSpec[];
}
