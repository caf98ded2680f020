// Errors of the control plane, a closed set of codes: each message names the step and the cause.

export type CpErrorCode =
  | 'STORE' // the SQLite store cannot be opened or written
  | 'POLICY' // a policy bundle that cannot be built, signed or verified
  | 'TLS' // certificates, keys, SVIDs
  | 'CONFIG'; // flags and files

export class CpError extends Error {
  readonly code: CpErrorCode;
  constructor(code: CpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CpError';
    this.code = code;
  }
}
