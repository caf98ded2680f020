// Command-line options, read one at a time: `--flag value`, `--flag=value`,
// `--flag v1 v2 ...` for path lists; every error names the flag.
import { VigilError } from '../common/errors';

export class ArgReader {
  /** the option being read, without any "=value" */
  flag = '';
  private inline: string | undefined;
  private i = -1;

  constructor(private readonly argv: readonly string[]) {}

  /** The next option, or undefined at the end. */
  next(): string | undefined {
    const a = this.argv[++this.i];
    if (a === undefined) return undefined;
    const eq = a.indexOf('=');
    this.flag = eq > 0 ? a.slice(0, eq) : a;
    this.inline = eq > 0 ? a.slice(eq + 1) : undefined;
    return this.flag;
  }

  /** The option's value. */
  value(): string {
    if (this.inline !== undefined) return this.inline;
    const v = this.argv[++this.i];
    if (v === undefined) throw new VigilError('BAD_ARGUMENT', `${this.flag}: expected a value`);
    return v;
  }

  /** The option's value and the words after it, up to the next option (path lists). */
  values(): string[] {
    const out = [this.value()];
    while (this.argv[this.i + 1] !== undefined && !this.argv[this.i + 1].startsWith('--')) out.push(this.argv[++this.i]);
    return out;
  }

  /** An option that takes no value. */
  switch(hint = ''): void {
    if (this.inline !== undefined) throw new VigilError('BAD_ARGUMENT', `${this.flag} takes no value${hint ? ` (${hint})` : ''}`);
  }

  /** json or text. */
  output(): 'json' | 'text' {
    const v = this.value();
    if (v !== 'json' && v !== 'text') throw new VigilError('BAD_ARGUMENT', `${this.flag}: expected json or text, got "${v}"`);
    return v;
  }

  /** Seconds, as milliseconds: > 0, or from min to max when given. */
  seconds(min?: number, max?: number): number {
    const n = Number(this.value());
    const ok = Number.isFinite(n) && (min === undefined ? n > 0 : n >= min) && (max === undefined || n <= max);
    if (!ok) {
      throw new VigilError('BAD_ARGUMENT', `${this.flag}: expected seconds ${min === undefined ? '> 0' : `from ${min}${max === undefined ? '' : ` to ${max}`}`}`);
    }
    return n * 1000;
  }

  unknown(command: string): never {
    throw new VigilError('BAD_ARGUMENT', `vigil ${command}: unknown option "${this.argv[this.i]}"`);
  }
}
