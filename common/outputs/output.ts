// What every output (webhook, falcosidekick, syslog) is: a named thing that
// delivers alerts, given as the JSON the agent printed (common/ cannot know
// the agent's Alert type; each output reads the fields it needs). deliver()
// resolves once the receiver took them, and throws when it did not, so that
// callers keep what failed: the control plane's forwarder does not advance
// its mark (the store keeps the alerts), the agent's queue retries.

export interface Output {
  readonly name: string;
  readonly type: 'webhook' | 'falcosidekick' | 'syslog';
  deliver(alertsJson: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The fields outputs read from an alert's JSON (everything may be missing: it crossed a trust boundary). */
export interface AlertView {
  time: string;
  rule: string;
  priority: string;
  output: string;
  node: string;
  tags: string[];
  raw: Record<string, unknown>;
}

export function alertView(json: string): AlertView {
  let raw: Record<string, unknown> = {};
  try {
    const v = JSON.parse(json) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) raw = v as Record<string, unknown>;
  } catch {
    raw = {};
  }
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    time: s(raw.time) || new Date().toISOString(),
    rule: s(raw.rule) || 'unknown',
    priority: s(raw.priority) || 'warning',
    output: s(raw.output),
    node: s(raw.node),
    tags: Array.isArray(raw.tags) ? raw.tags.filter((t): t is string => typeof t === 'string') : [],
    raw,
  };
}
