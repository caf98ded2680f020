// Every error Vigil raises on purpose: a closed set of codes, each with
// a message that names the step and the cause.

export type ErrorCode =
  | 'BAD_ARGUMENT' // command line or API misuse
  | 'NOT_PRIVILEGED' // needs root / CAP_BPF and does not have it
  | 'NOT_BUILT' // the addon or the BPF object is missing
  | 'NO_CGROUP2' // no cgroup v2 mount
  | 'CGROUP_NOT_FOUND' // a --cgroup path that does not exist
  | 'KERNEL' // the kernel refused (load, attach, map update)
  | 'ABI_MISMATCH' // the decoder and the C layout disagree
  | 'DECODE' // a malformed record in a batch
  | 'BAD_SPIFFE_ID' // a string that is not a SPIFFE ID (or SPIFFE ID glob)
  | 'RULES' // a rules file that cannot be loaded (carries file:line:col)
  | 'IDENTITIES' // an identities file that cannot be loaded (carries file:line:col)
  | 'EVENTS' // recorded events or a rules test fixture that cannot be read (carries file:line:col)
  | 'KUBERNETES' // the Kubernetes API cannot be configured (kubeconfig, template)
  | 'ENFORCEMENT' // a kill or deny that could not be carried out
  | 'UNAVAILABLE' // the control plane could not be reached
  | 'REFUSED' // the control plane answered and refused the call
  | 'CONTROLPLANE'; // the control plane failed the call (an internal error there)

export class VigilError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
