// The shape of a rule once loaded: what the YAML says, checked, with the
// source offsets the compiler needs to report later problems.
import type { KindName } from '../kernel/abi';
import type { SourceFile } from '../../common/source-pos';

export const RULE_KINDS = [
  'exec', 'open', 'unlink', 'rename', 'chmod', 'link', 'symlink', 'connect', 'ptrace', 'setuid', 'mount', 'module', 'migrate', 'socket', 'io_uring',
  'chown', 'setxattr', 'namespace', 'bind', 'listen', 'dup', 'memfd', 'userfaultfd', 'bpf',
] as const;
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

/**
 * A command line (the process's arguments, argv[0] included). Each key given
 * must hold: `contains`, some argument contains one of the strings;
 * `icontains`, the same ignoring case (Unicode lower case of both sides);
 * `prefix`, some argument starts with one of the strings.
 */
export interface ArgsMatch {
  contains?: string[];
  icontains?: string[];
  prefix?: string[];
}

export const ARGS_KEYS = ['contains', 'icontains', 'prefix'] as const;

/**
 * Kernel names (AF_INET, SOCK_RAW, PTRACE_ATTACH, as trace records print
 * them): one of `in`, none of `not_in`. Written as a plain list, it is `in`.
 */
export interface NameSetMatch {
  in?: string[];
  not_in?: string[];
}

/** What a mode says, for `mode: {any: [...], all: [...]}` (docs/rules.md "Modes"). */
export const MODE_BITS = ['setuid', 'setgid', 'sticky', 'executable', 'world_writable', 'world_readable', 'group_writable'] as const;
export type ModeBit = (typeof MODE_BITS)[number];

export interface ModeMatch {
  /** at least one of these holds */
  any?: ModeBit[];
  /** every one of these holds */
  all?: ModeBit[];
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
  args?: ArgsMatch;
  /** the process name (the kernel's comm: the file name it was exec'd by, at most 15 bytes; busybox applets keep theirs) */
  name?: StringMatch;
  /** some ancestor's executable (parent, grandparent, ... from the process cache) satisfies every key given */
  ancestor_binary?: StringMatch;
  /** the parent's command line */
  parent_args?: ArgsMatch;
  /** the workload's container image name, normalized (docker.io/library/nginx) */
  image?: StringMatch;
  /** the workload's container image digest (sha256:...) */
  image_digest?: StringMatch;
  uid?: UidMatch;
  destination?: DestinationMatch;
  /** exec: the executable changed (ctime) after the workload's first process started */
  drift?: boolean;
  /** the process has a controlling terminal (the kernel's record) */
  tty?: boolean;
  /** exec: the working directory it was started in */
  cwd?: StringMatch;
  /** chmod: the new mode; open: the mode a created file gets (asked for, without the umask) */
  mode?: ModeMatch;
  /** socket address family (connect, socket, bind, listen, dup, io_uring) */
  family?: NameSetMatch;
  /** socket type */
  type?: NameSetMatch;
  /** ptrace request */
  request?: NameSetMatch;
  /** mount: the file system type, and the source */
  fstype?: StringMatch;
  source?: StringMatch;
  /** namespace: {any: [CLONE_NEW*...]}: asked for (unshare, clone, clone3) or joined (setns) */
  namespaces?: { any: string[] };
  /** bind, listen: the local port; dup: the peer's */
  port?: UidMatch;
  /** setxattr: the attribute's name */
  attribute?: StringMatch;
  /** exec: the executed file has no link (memfd, deleted, O_TMPFILE) */
  fileless?: boolean;
  /** exec: the executed file's data is in the container's writable (overlayfs upper) layer, not in an image layer */
  writable_layer?: boolean;
}

export type MatchKey = keyof MatchSpec;
export const MATCH_KEYS: readonly MatchKey[] = [
  'binary',
  'parent_binary',
  'path',
  'new_path',
  'flags',
  'args',
  'uid',
  'destination',
  'drift',
  'name',
  'ancestor_binary',
  'parent_args',
  'image',
  'image_digest',
  'tty',
  'cwd',
  'mode',
  'family',
  'type',
  'request',
  'fstype',
  'source',
  'namespaces',
  'port',
  'attribute',
  'fileless',
  'writable_layer',
];

/** What every kind can match: the process, its lineage and its workload. */
const PROCESS_KEYS: readonly MatchKey[] = ['binary', 'parent_binary', 'args', 'uid', 'name', 'ancestor_binary', 'parent_args', 'image', 'image_digest', 'tty'];
/** sockets: what the kernel's record says of the socket */
const SOCKET_KEYS: readonly MatchKey[] = ['family', 'type'];

/** Which `match` keys make sense for which event kind. */
export const KEYS_FOR_KIND: Record<RuleKind, readonly MatchKey[]> = {
  exec: [...PROCESS_KEYS, 'drift', 'cwd', 'fileless', 'writable_layer'],
  open: [...PROCESS_KEYS, 'path', 'flags', 'mode'],
  unlink: [...PROCESS_KEYS, 'path'],
  rename: [...PROCESS_KEYS, 'path', 'new_path'],
  chmod: [...PROCESS_KEYS, 'path', 'mode'],
  link: [...PROCESS_KEYS, 'path', 'new_path'],
  symlink: [...PROCESS_KEYS, 'path', 'new_path'],
  connect: [...PROCESS_KEYS, 'destination', ...SOCKET_KEYS],
  ptrace: [...PROCESS_KEYS, 'request'],
  setuid: [...PROCESS_KEYS],
  mount: [...PROCESS_KEYS, 'path', 'fstype', 'source'],
  module: [...PROCESS_KEYS, 'path'],
  migrate: [...PROCESS_KEYS],
  socket: [...PROCESS_KEYS, ...SOCKET_KEYS],
  io_uring: [...PROCESS_KEYS, ...SOCKET_KEYS],
  chown: [...PROCESS_KEYS, 'path'],
  setxattr: [...PROCESS_KEYS, 'path', 'attribute'],
  namespace: [...PROCESS_KEYS, 'namespaces'],
  bind: [...PROCESS_KEYS, ...SOCKET_KEYS, 'port'],
  listen: [...PROCESS_KEYS, ...SOCKET_KEYS, 'port'],
  dup: [...PROCESS_KEYS, ...SOCKET_KEYS, 'port'],
  memfd: [...PROCESS_KEYS],
  userfaultfd: [...PROCESS_KEYS],
  bpf: [...PROCESS_KEYS],
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
