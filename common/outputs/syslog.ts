// Syslog as RFC 5424 messages over TCP, or TLS (RFC 5425), framed by octet
// counting (RFC 6587 3.4.1: "LEN SP MSG", the framing RFC 5425 requires):
//   <PRI>1 TIMESTAMP HOSTNAME vigil - RULE [vigil@32473 rule="..." priority="..."] MSG
// PRI = facility * 8 + severity; Falco's eight levels are syslog's eight
// severities in the same order (emergency 0 ... debug 7). Header fields are
// PRINTUSASCII without spaces, structured-data values escape ", \ and ]
// (RFC 5424 6.3.3), MSG is the alert's JSON (or its sentence), UTF-8 with a BOM.
// The connection is opened when needed and again after a failure.
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as fs from 'node:fs';
import { alertView, type Output } from './output';

const SEVERITY: Record<string, number> = { emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, informational: 6, debug: 7 };
/** IANA private enterprise number used in SD-IDs (an example number until Vigil has its own) */
export const SD_ID = 'vigil@32473';

/** A header field: printable US-ASCII, no spaces, bounded; "-" when empty. */
function headerField(s: string, max: number): string {
  const v = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v || '-';
}

function sdValue(s: string): string {
  return s.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

export function syslogMessage(json: string, o: { facility: number; format: 'json' | 'text'; hostname?: string }): string {
  const a = alertView(json);
  const sev = SEVERITY[a.priority] ?? 4;
  const w = (a.raw.workload && typeof a.raw.workload === 'object' ? a.raw.workload : {}) as Record<string, unknown>;
  const sd = `[${SD_ID} rule="${sdValue(a.rule)}" priority="${sdValue(a.priority)}" node="${sdValue(a.node)}" spiffe_id="${sdValue(typeof w.spiffe_id === 'string' ? w.spiffe_id : '')}"]`;
  const ts = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\d*Z$/.test(a.time) ? a.time.replace(/(\.\d{6})\d+Z$/, '$1Z') : new Date().toISOString();
  const msg = o.format === 'json' ? json : a.output;
  return `<${o.facility * 8 + sev}>1 ${ts} ${headerField(o.hostname ?? a.node, 255)} vigil - ${headerField(a.rule, 32)} ${sd} \ufeff${msg.replace(/\n/g, ' ')}`;
}

/** RFC 6587 octet counting: the message's length in bytes, a space, the message. */
export function frame(msg: string): Buffer {
  const b = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${b.length} `), b]);
}

export interface SyslogOptions {
  host: string;
  port: number;
  tls: boolean;
  caFile?: string;
  /** the server's name for the certificate check (default: host) */
  serverName?: string;
  facility: number;
  format: 'json' | 'text';
  timeoutMs?: number;
}

export class SyslogOutput implements Output {
  readonly type = 'syslog' as const;
  private sock: net.Socket | null = null;
  private readonly ca: Buffer | undefined;

  constructor(
    readonly name: string,
    private readonly o: SyslogOptions,
  ) {
    this.ca = o.caFile ? fs.readFileSync(o.caFile) : undefined;
  }

  private connect(): Promise<net.Socket> {
    if (this.sock && !this.sock.destroyed) return Promise.resolve(this.sock);
    return new Promise((resolve, reject) => {
      const t = this.o.timeoutMs ?? 10_000;
      const s = this.o.tls
        ? tls.connect({ host: this.o.host, port: this.o.port, ca: this.ca, servername: this.o.serverName ?? (net.isIP(this.o.host) ? undefined : this.o.host), rejectUnauthorized: true })
        : net.connect({ host: this.o.host, port: this.o.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`syslog ${this.o.host}:${this.o.port}: connect timed out`));
      }, t);
      s.once(this.o.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        s.on('error', () => s.destroy());
        s.on('close', () => {
          if (this.sock === s) this.sock = null;
        });
        this.sock = s;
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`syslog ${this.o.host}:${this.o.port}: ${err.message}`));
      });
    });
  }

  async deliver(alertsJson: readonly string[]): Promise<void> {
    const s = await this.connect();
    const data = Buffer.concat(alertsJson.map((j) => frame(syslogMessage(j, this.o))));
    await new Promise<void>((resolve, reject) => {
      s.write(data, (err) => {
        if (err) {
          s.destroy();
          reject(new Error(`syslog ${this.o.host}:${this.o.port}: ${err.message}`));
        } else resolve();
      });
    });
  }

  async close(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.end(() => r()));
  }
}
