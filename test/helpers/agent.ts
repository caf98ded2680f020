// Runs the real agent in this process, with rules and identities written to
// a temporary directory, and collects its alerts (AgentHarness); and the set-up
// the kernel e2e tests share around it (AgentFixture).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent, type AgentOptions } from '../../agent/agent';
import type { Alert } from '../../agent/export/alert';
import { errorMessage } from '../../common/errors';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from './kernel';

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

/**
 * What a kernel e2e test builds around the real agent, in one place: root and
 * BTF checked (a clear failure, never a skip), the `actions` helper, a cgroup
 * sandbox named by `label`, a temporary directory (its canonical path, as the
 * kernel reports it), one child cgroup per workload with the identities file
 * that names it `<td>/sa/<name>`, and the agent. `cleanup()` undoes all of it
 * and whatever the test handed to `defer()`, last made first, every step even
 * when an earlier one (or the set-up itself) failed.
 */
export class AgentFixture {
  readonly sb: CgroupSandbox;
  readonly tmp: string;
  /** the `actions` helper binary, by its real path (rules that name it compare canonical paths) */
  readonly actions: string;
  /** where start() wrote the rules and identities (also when the start failed) */
  agentDir: string | undefined;
  private harness: AgentHarness | undefined;
  private readonly identities: string[] = [];
  private readonly undo: { step: string; run: () => unknown }[] = [];

  private constructor(
    readonly label: string,
    /** the SPIFFE ID prefix of the workloads, e.g. spiffe://test.vigil/ns/doors */
    readonly td: string,
    sb: CgroupSandbox,
    tmp: string,
    actions: string,
  ) {
    this.sb = sb;
    this.tmp = tmp;
    this.actions = actions;
    this.defer(`removing the ${label} cgroup sandbox`, () => sb.cleanup());
    this.defer(`removing ${tmp}`, () => fs.rmSync(tmp, { recursive: true, force: true }));
  }

  /** Check privileges, make the sandbox and the temporary directory; if that fails, nothing is left behind. */
  static create(label: string, td: string): AgentFixture {
    requireKernelTestPrivileges();
    const actions = fs.realpathSync(helperBinary('actions'));
    const sb = CgroupSandbox.create(label);
    let tmp: string;
    try {
      tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `vigil-${label}-`)));
    } catch (e) {
      sb.cleanupSync();
      throw e;
    }
    return new AgentFixture(label, td, sb, tmp, actions);
  }

  /** A child cgroup of the sandbox that the identities file names `<td>/sa/<name>`. */
  workload(name: string): CgroupHandle {
    const cg = this.sb.child(name);
    this.identity(name, cg.rel);
    return cg;
  }

  /** Name a cgroup made elsewhere (a container's) `<td>/sa/<name>`; `rel` relative to the cgroup v2 root. */
  identity(name: string, rel: string): void {
    this.identities.push(`  - spiffe_id: ${this.td}/sa/${name}\n    cgroups: [${rel.replace(/^\//, '')}]\n`);
  }

  /** Undo `run` at cleanup, before what was made earlier; `step` names it if it fails. */
  defer(step: string, run: () => unknown): void {
    this.undo.push({ step, run });
  }

  /** Start the agent with these rules and the workloads named so far. */
  async start(rules: string, extra: Partial<AgentOptions> = {}): Promise<AgentHarness> {
    const h = new AgentHarness(rules, `workloads:\n${this.identities.join('')}`, extra);
    this.agentDir = h.dir;
    // registered before start(): a start that fails half-way is stopped and its directory removed too
    this.defer('stopping the agent', () => h.stop());
    this.harness = await h.start();
    return h;
  }

  /** the started agent */
  get h(): AgentHarness {
    if (this.harness === undefined) throw new Error(`the ${this.label} fixture's agent was not started (start() missing or it failed)`);
    return this.harness;
  }

  /** Undo everything, last made first; every step runs, the failures are thrown together at the end. */
  async cleanup(): Promise<void> {
    const failed: Error[] = [];
    for (const { step, run } of this.undo.splice(0).reverse()) {
      try {
        await run();
      } catch (e) {
        failed.push(new Error(`${step}: ${errorMessage(e)}`, { cause: e }));
      }
    }
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) throw new AggregateError(failed, `cleaning up the ${this.label} fixture: ${failed.map((f) => f.message).join('; ')}`);
  }
}
