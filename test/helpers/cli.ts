// Runs the real `vigil` command for CLI tests and waits until it is ready.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';

export interface RunningVigil {
  proc: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
  /** SIGINT, then the exit code */
  stop(): Promise<number | null>;
}

/** Start `vigil ARGS...` and resolve once stderr matches `ready` (loading and verifying the probes takes ~12 s on a busy 2-CPU machine). */
export async function startVigil(args: string[], ready: RegExp, timeoutMs = 30000): Promise<RunningVigil> {
  const proc = spawn(path.join(repoRoot(), 'bin', 'vigil'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
  const v: RunningVigil = {
    proc,
    out: () => out,
    err: () => err,
    exited,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGINT');
      return exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(err)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      throw new Error(`vigil ${args.join(' ')} did not become ready: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return v;
}

