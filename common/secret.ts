// Secrets (ticket tokens, webhook keys) from a file or an environment
// variable. Callers read them again at each use, so that a rotated secret is
// picked up; a secret never reaches a message or a log line.
import * as fs from 'node:fs';
import { errorMessage, VigilError } from './errors';

/** Where a secret is: a file (its trailing newline dropped) or an environment variable. */
export interface SecretSource {
  file?: string;
  env?: string;
}

/** The secret; a BAD_ARGUMENT naming `what` and the file or variable when it cannot be had. */
export function readSecret(where: SecretSource, what: string): string {
  if (where.file) {
    try {
      return fs.readFileSync(where.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new VigilError('BAD_ARGUMENT', `${what}: cannot read ${where.file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  }
  if (where.env) {
    const v = process.env[where.env];
    if (!v) throw new VigilError('BAD_ARGUMENT', `${what}: the environment variable ${where.env} is not set`);
    return v;
  }
  throw new VigilError('BAD_ARGUMENT', `${what}: give a file or an environment variable`);
}
