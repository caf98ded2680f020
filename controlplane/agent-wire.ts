// What an agent message may cost before it is decoded. grpc-js decodes a
// whole message on the event loop before any handler sees it: a 700,000-
// alert batch takes seconds, and every agent and admin waits. So the Connect
// method's deserializer first looks at the bytes (a scan of the protobuf
// wire format: tags and lengths, nothing decoded) and hands the handler a
// refusal instead of the message when it is over the size or batch limit.
import type * as grpc from '@grpc/grpc-js';
import { Reader } from 'protobufjs';
import type { AgentMessage__Output } from '../common/proto/generated/vigil/v1/AgentMessage';

export interface WireLimits {
  /** the largest agent message, in bytes */
  maxMessageBytes: number;
  /** the most alerts in one AlertBatch */
  maxBatchAlerts: number;
  /** the most entries in one IdentityReport */
  maxIdentityEntries: number;
}

/** A message that was not decoded, and why. */
export interface WireRefusal {
  refused: { reason: 'message_too_large' | 'batch_too_large' | 'identity_report_too_large'; bytes: number; alerts: number; detail: string };
}

export type AgentWireMessage = AgentMessage__Output | WireRefusal;

export function isWireRefusal(m: AgentWireMessage): m is WireRefusal {
  return (m as WireRefusal).refused !== undefined;
}

// field numbers (proto/vigil/v1/vigil.proto): AgentMessage.alerts = 2 (AlertBatch.alerts = 1),
// AgentMessage.identities = 3 (IdentityReport.entries = 1)
const AGENT_MESSAGE_ALERTS = 2;
const AGENT_MESSAGE_IDENTITIES = 3;
const REPEATED_FIELD = 1;
const LENGTH_DELIMITED = 2;

/** How many alerts and identity entries an AgentMessage carries, counted from the wire without decoding them. */
export function countRecords(buf: Uint8Array): { alerts: number; entries: number } {
  const r = Reader.create(buf);
  const out = { alerts: 0, entries: 0 };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if ((field === AGENT_MESSAGE_ALERTS || field === AGENT_MESSAGE_IDENTITIES) && (tag & 7) === LENGTH_DELIMITED) {
      const end = r.uint32() + r.pos;
      let n = 0;
      while (r.pos < end) {
        const t = r.uint32();
        if (t >>> 3 === REPEATED_FIELD && (t & 7) === LENGTH_DELIMITED) {
          n++;
          r.skip(r.uint32());
        } else {
          r.skipType(t & 7);
        }
      }
      if (field === AGENT_MESSAGE_ALERTS) out.alerts += n;
      else out.entries += n;
    } else {
      r.skipType(tag & 7);
    }
  }
  return out;
}

/** Check the bytes; null when the message may be decoded. */
export function checkWire(buf: Uint8Array, l: WireLimits): WireRefusal | null {
  if (buf.length > l.maxMessageBytes) {
    return { refused: { reason: 'message_too_large', bytes: buf.length, alerts: 0, detail: `a message of ${buf.length} bytes is over the limit of ${l.maxMessageBytes} bytes` } };
  }
  let n: { alerts: number; entries: number };
  try {
    n = countRecords(buf);
  } catch {
    return null; // not well formed: the decoder says what is wrong
  }
  if (n.alerts > l.maxBatchAlerts) {
    return { refused: { reason: 'batch_too_large', bytes: buf.length, alerts: n.alerts, detail: `a batch of ${n.alerts} alerts is over the limit of ${l.maxBatchAlerts} per batch` } };
  }
  if (n.entries > l.maxIdentityEntries) {
    return {
      refused: {
        reason: 'identity_report_too_large',
        bytes: buf.length,
        alerts: 0,
        detail: `an identity report of ${n.entries} entries is over the limit of ${l.maxIdentityEntries} per node`,
      },
    };
  }
  return null;
}

/** The AgentService definition with Connect's deserializer checking the bytes first. */
export function guardedAgentService(def: grpc.ServiceDefinition, l: WireLimits): grpc.ServiceDefinition {
  const connect = def.Connect as grpc.MethodDefinition<unknown, unknown>;
  const decode = connect.requestDeserialize;
  return {
    ...def,
    Connect: {
      ...connect,
      requestDeserialize: (buf: Buffer): AgentWireMessage => checkWire(buf, l) ?? (decode(buf) as AgentMessage__Output),
    },
  };
}
