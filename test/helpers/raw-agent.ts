// An agent stream with nothing of the agent behind it: a test writes the
// messages it wants (the hostile ones too) with a real agent SVID from a
// `vigil certs` directory and reads what the control plane answers.
import * as grpc from '@grpc/grpc-js';
import * as path from 'node:path';
import { channelCredentials } from '../../common/spiffe/grpc-credentials';
import { compileSpiffePattern } from '../../common/spiffe/spiffe-id';
import { vigilProto } from '../../common/proto/load';
import type { AgentMessage } from '../../common/proto/generated/vigil/v1/AgentMessage';
import type { AgentServiceClient } from '../../common/proto/generated/vigil/v1/AgentService';
import type { ControlMessage__Output } from '../../common/proto/generated/vigil/v1/ControlMessage';

export interface RawAgent {
  readonly received: ControlMessage__Output[];
  /** resolves when the stream ends: the status the control plane gave */
  readonly ended: Promise<{ code: number; details: string }>;
  /** a message, or bytes put on the wire as they are (a message no encoder would make, or one too costly to encode here) */
  write(m: AgentMessage | Buffer): boolean;
  close(): void;
}

/** certs/agent-NAME.pem (NAME defaults to the node) speaks to the control plane at 127.0.0.1:port. */
export function rawAgent(port: number, certs: string, td: string, name: string, opts: grpc.ChannelOptions = {}): RawAgent {
  const creds = channelCredentials(
    { bundle: path.join(certs, 'bundle.pem'), cert: path.join(certs, `agent-${name}.pem`), key: path.join(certs, `agent-${name}.key`) },
    td,
    compileSpiffePattern(`spiffe://${td}/vigil/controlplane`),
  );
  const def = vigilProto().AgentService.service;
  const encode = def.Connect.requestSerialize;
  const Client = grpc.makeGenericClientConstructor(
    { ...def, Connect: { ...def.Connect, requestSerialize: (m: AgentMessage | Buffer) => (Buffer.isBuffer(m) ? m : encode(m)) } },
    'AgentService',
  );
  const client = new Client(`127.0.0.1:${port}`, creds, {
    'grpc.ssl_target_name_override': 'vigil-controlplane',
    'grpc.max_send_message_length': 64 << 20,
    ...opts,
  }) as unknown as AgentServiceClient;
  const call = client.Connect();
  const received: ControlMessage__Output[] = [];
  call.on('data', (m: ControlMessage__Output) => received.push(m));
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
    call.on('end', () => resolve({ code: grpc.status.OK, details: '' }));
  });
  return {
    received,
    ended,
    // a Buffer passes the serializer above untouched
    write: (m) => call.write(m as AgentMessage),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}
