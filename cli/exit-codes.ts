// What `vigil`'s exit status means: one meaning per number, the same for
// every subcommand (docs/cli.md). Scripts and CI branch on these.

export const Exit = {
  /** it worked (for checks: nothing wrong was found) */
  OK: 0,
  /** it ran and failed, or a check found a problem (tampered audit log, invalid rules, a kernel refusal, needs root) */
  FAILED: 1,
  /** the command line is wrong: unknown command or option, missing or bad value; nothing was done */
  USAGE: 2,
  /** the control plane could not be reached (refused connection, no answer, TLS handshake failed) */
  UNAVAILABLE: 3,
  /** the control plane answered and refused the call (not authorized, or the request was refused) */
  REFUSED: 4,
} as const;

export type ExitCode = (typeof Exit)[keyof typeof Exit];
