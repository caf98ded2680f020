// Runs the real `vigil` command for CLI tests: to the end, for its exit code
// and output, in this process through the command's parser (runVigil) or as
// its own process (spawnVigil); or a long-running one started as its own
// process and waited on until it is ready (startVigil).
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../cli/main';
import { repoRoot } from '../../common/repo';

export interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Run `vigil ARGV...` through the command's own parser (cli/main's main()) and collect its exit code, stdout and stderr. */
export async function runVigil(...argv: string[]): Promise<Ran> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  const code = await main(argv, out, err);
  return { code, out: o, err: e };
}

export interface RunningVigil {
  proc: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
  /** SIGINT, then the exit code */
  stop(): Promise<number | null>;
}

/** Start bin/vigil as its own process (by this node), collecting stdout and stderr. */
function launchVigil(args: string[]): RunningVigil {
  const proc = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'vigil'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
  return {
    proc,
    out: () => out,
    err: () => err,
    exited,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGINT');
      return exited;
    },
  };
}

/** Run `vigil ARGS...` as its own process to the end: its exit code (null if a signal ended it), stdout and stderr. */
export async function spawnVigil(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const v = launchVigil(args);
  const code = await v.exited;
  return { code, out: v.out(), err: v.err() };
}

/** Start `vigil ARGS...` and resolve once stderr matches `ready` (loading and verifying the probes takes ~12 s on a busy 2-CPU machine). */
export async function startVigil(args: string[], ready: RegExp, timeoutMs = 30000): Promise<RunningVigil> {
  const v = launchVigil(args);
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(v.err())) {
    if (v.proc.exitCode !== null || Date.now() > deadline) {
      if (v.proc.exitCode === null) v.proc.kill('SIGKILL');
      throw new Error(`vigil ${args.join(' ')} did not become ready: ${v.err()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return v;
}
