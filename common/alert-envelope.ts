// An alert as it travels from an agent to the store: the agent's boot and
// sequence number (what makes delivery exactly-once), the fields the store
// indexes, and the whole alert as JSON.

export interface SpooledAlert {
  bootId: string;
  sequence: number;
  timeNs: string;
  rule: string;
  priority: string;
  action: string;
  outcome: string;
  spiffeId: string;
  json: string;
}
