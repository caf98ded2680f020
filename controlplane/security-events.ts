// Security events, visible: every refused TLS handshake, every refused
// agent or admin call (with the SPIFFE ID the peer presented), every admin
// call by name. Counted in metrics (docs/metrics.md) and logged, the log
// rate-limited so that a scanner cannot flood it (what is not logged is
// counted and summed up in the next line).
import * as grpc from '@grpc/grpc-js';
import type { Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { authorizePeer, type Peer } from '../common/spiffe/grpc-credentials';
import { checkSvid } from '../common/spiffe/svid';
import type { SpiffePattern } from '../common/spiffe/spiffe-id';
import type { Authorize } from './agent-service';
import type { CpMetrics } from './metrics';

export type Role = 'agent' | 'admin';

/** Lines per minute before the log summarizes instead. */
const LOG_PER_MINUTE = 20;

interface CallLike {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate };
  getPath?(): string;
  getPeer?(): string;
}

export class SecurityEvents {
  private window = 0;
  private logged = 0;
  private unlogged = 0;
  private readonly from = new WeakMap<Socket, string>();

  constructor(
    private readonly metrics: CpMetrics | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** Log, at most LOG_PER_MINUTE lines a minute; the rest are counted into the next line. */
  private say(line: string): void {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.window) {
      this.window = minute;
      this.logged = 0;
    }
    if (this.logged >= LOG_PER_MINUTE) {
      this.unlogged++;
      return;
    }
    this.logged++;
    const more = this.unlogged ? ` (and ${this.unlogged} more refusals not logged in the last minute: see the metrics)` : '';
    this.unlogged = 0;
    this.log(line + more);
  }

  /** An Authorize for one role: the SVID checked, refusals and admin calls counted and logged. */
  authorizer(trustDomain: string | null, role: Role): Authorize {
    return (call, who: SpiffePattern[]): Peer | grpc.ServiceError => {
      const c = call as CallLike;
      const method = (c.getPath?.() ?? '').split('/').pop() || 'call';
      const r = trustDomain ? authorizePeer(call, trustDomain, who) : { spiffeId: 'insecure' };
      if ('code' in r) {
        const reason = /^no client certificate/.test(r.details) ? 'no_certificate' : /SVID refused/.test(r.details) ? 'invalid_svid' : 'not_allowed';
        this.metrics?.peersRefused.inc({ role, reason });
        if (role === 'admin') this.metrics?.adminCalls.inc({ call: method, result: 'refused' });
        this.say(`refused ${role} call ${method} from ${c.getPeer?.() ?? '?'}: ${r.details}`);
        return r;
      }
      if (role === 'admin') this.metrics?.adminCalls.inc({ call: method, result: 'ok' });
      return r;
    };
  }

  /** An agent that speaks for another node than its SVID names. */
  wrongNode(spiffeId: string, node: string): void {
    this.metrics?.peersRefused.inc({ role: 'agent', reason: 'wrong_node' });
    this.say(`refused agent ${spiffeId}: it cannot speak for node ${node}`);
  }

  /**
   * A TLS handshake that failed: no certificate, an unknown CA, expired.
   * Node destroys a socket whose client certificate does not verify and
   * reports it as a hang-up; the reason is its authorizationError, the
   * address that of the TCP socket under it (the TLS socket is gone).
   */
  handshakeRefused(err: Error, socket: TLSSocket): void {
    this.metrics?.handshakesRefused.inc();
    const raw = (socket as unknown as { _parent?: Socket })._parent;
    const from = (raw && this.from.get(raw)) ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const why = socket.authorizationError ? `the client certificate does not verify (${String(socket.authorizationError)})` : err.message;
    let claimed = '';
    try {
      const cert = socket.getPeerCertificate();
      if (cert && cert.subjectaltname) claimed = `; it presented ${cert.subjectaltname}`;
    } catch {
      // nothing left to read
    }
    this.say(`TLS handshake refused from ${from}: ${why}${claimed}`);
  }

  /**
   * A message over gRPC's own receive limit (--max-message-bytes is checked
   * by us below it): grpc-js refuses it in the call's stream decoder, from
   * the 5-byte length prefix, and ends the call before any handler hears of
   * it (1.14 has no hook for this). This interceptor wraps the innermost
   * call's sendStatus (the decoder calls it on itself) to count and log
   * that refusal with the peer's SPIFFE ID; a grpc-js whose call has no
   * sendStatus leaves it uncounted.
   */
  receiveLimitInterceptor(trustDomain: string | null): grpc.ServerInterceptor {
    return (method, call) => {
      type Status = { code: number; details?: string };
      const inner = call as unknown as { sendStatus?: (s: Status) => void };
      const send = inner.sendStatus;
      if (typeof send === 'function') {
        inner.sendStatus = (status: Status): void => {
          if (status.code === grpc.status.RESOURCE_EXHAUSTED && /^Received message larger than max/.test(status.details ?? '')) this.overLimit(method.path, call, trustDomain, status.details ?? '');
          send.call(call, status);
        };
      }
      // a pass-through: everything else goes to the call as it is
      return new grpc.ServerInterceptingCall(call);
    };
  }

  private overLimit(path: string, call: CallLike, trustDomain: string | null, details: string): void {
    const agent = /\.AgentService\/Connect$/.test(path);
    if (agent) this.metrics?.messagesRefused.inc({ reason: 'message_too_large' });
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    const r = raw && trustDomain ? checkSvid(raw, trustDomain) : null;
    const who = r?.ok && r.id ? r.id.toString() : trustDomain ? 'a peer with no valid SVID' : 'an unauthenticated peer (--insecure)';
    this.say(`${agent ? 'agent' : 'call'} ${path} from ${who} (${call.getPeer?.() ?? '?'}): ${details.replace(/^Received message larger than max/, 'a message larger than gRPC\'s receive limit')}: refused unread, stream ended`);
  }

  /**
   * Hear the handshakes grpc-js refuses. It creates its HTTP/2 servers
   * inside bindAsync and offers no hook (1.14); its createHttp2Server is
   * wrapped on this server object to listen for 'tlsClientError'. A
   * grpc-js without that method leaves handshakes uncounted, and says so.
   */
  watch(server: grpc.Server): boolean {
    const s = server as unknown as { createHttp2Server?: (creds: unknown) => { on(ev: string, f: (e: Error, sock: TLSSocket) => void): void } };
    const make = s.createHttp2Server;
    if (typeof make !== 'function') {
      this.log('refused TLS handshakes are not counted: this grpc-js has no createHttp2Server to watch');
      return false;
    }
    s.createHttp2Server = (creds: unknown) => {
      const h = make.call(server, creds) as ReturnType<typeof make> & { on(ev: 'connection', f: (raw: Socket) => void): void };
      // the address while it is known: a refused TLS socket has lost it by the time it is reported
      h.on('connection', (raw: Socket) => this.from.set(raw, `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`));
      h.on('tlsClientError', (e, sock) => this.handshakeRefused(e, sock));
      return h;
    };
    return true;
  }
}
