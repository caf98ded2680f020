// Runs the real agent in this process, with rules and identities written to
// a temporary directory, and collects its alerts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent, type AgentOptions } from '../../agent/agent';
import type { Alert } from '../../agent/export/alert';

export class AgentHarness {
  readonly alerts: Alert[] = [];
  stderr = '';
  readonly dir: string;
  readonly rulesPath: string;
  readonly identitiesPath: string;
  agent!: Agent;

  constructor(
    rules: string,
    identities: string | null,
    private readonly extra: Partial<AgentOptions> = {},
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-'));
    this.rulesPath = path.join(this.dir, 'rules.yaml');
    this.identitiesPath = path.join(this.dir, 'identities.yaml');
    fs.writeFileSync(this.rulesPath, rules);
    if (identities !== null) fs.writeFileSync(this.identitiesPath, identities);
  }

  async start(): Promise<this> {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const err = new Writable({
      write: (c: Buffer, _e, cb) => {
        this.stderr += c.toString();
        cb();
      },
    });
    this.agent = await Agent.start({
      rules: [this.rulesPath],
      identities: fs.existsSync(this.identitiesPath) ? this.identitiesPath : undefined,
      output: 'json',
      node: 'test-node',
      kubernetes: false,
      out: sink,
      err,
      onAlert: (a) => this.alerts.push(a),
      // tests wait for each alert by pid: nothing collapsed unless a test asks (test/e2e/flood.test.ts)
      flood: { windowMs: 0 },
      ...this.extra,
    });
    return this;
  }

  async waitFor(what: string, pred: (a: Alert) => boolean, timeoutMs = 5000): Promise<Alert> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.alerts.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no alert for ${what} within ${timeoutMs} ms; alerts: ${JSON.stringify(this.alerts.map((a) => [a.rule, a.process.pid, a.outcome]))}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Give the pipeline time to deliver, then the alerts for a pid. */
  async settledFor(pid: number, ms = 300): Promise<Alert[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.alerts.filter((a) => a.process.pid === pid);
  }

  async stop(): Promise<void> {
    if (this.agent) await this.agent.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
