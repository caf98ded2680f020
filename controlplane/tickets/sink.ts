// A ticket system as the engine (engine.ts) sees it: find a ticket by
// fingerprint, create, comment, close, reopen, read its state. GitHub Issues
// (github.ts) and Jira (jira.ts) implement it.
import { createHash } from 'node:crypto';

export type RemoteState = 'open' | 'closed';

export interface RemoteTicket {
  key: string;
  url: string;
  state: RemoteState;
  /** closed as won't fix (GitHub state_reason not_planned; a Jira resolution named in wont_fix) */
  wontFix: boolean;
}

export interface TicketDraft {
  fingerprint: string;
  title: string;
  body: string;
  labels: string[];
  /** one of Falco's eight levels */
  priority: string;
}

export interface TicketSink {
  readonly name: string;
  readonly type: 'github' | 'jira';
  /** the ticket carrying this fingerprint, if one exists (a lost local record, a create whose answer was lost) */
  find(fingerprint: string): Promise<RemoteTicket | null>;
  create(d: TicketDraft): Promise<RemoteTicket>;
  get(key: string): Promise<RemoteTicket>;
  comment(key: string, text: string): Promise<void>;
  close(key: string): Promise<void>;
  reopen(key: string): Promise<void>;
  /** release connections */
  dispose(): Promise<void>;
}

/** The label that finds a fingerprint's ticket (labels are short: a hash prefix; the body carries the whole fingerprint). */
export function fingerprintLabel(fingerprint: string): string {
  return `vigil-fp-${createHash('sha256').update(fingerprint).digest('hex').slice(0, 16)}`;
}

/** The marker in a ticket's body that names its fingerprint exactly. */
export function fingerprintMarker(fingerprint: string): string {
  return `vigil-fingerprint: ${fingerprint}`;
}
