// HOST:PORT as every command takes it (agent and control plane metrics, the
// control plane's listen address, --controlplane).
import { VigilError } from './errors';

/** "host:port", "[v6]:port", ":port" (all addresses) -> [host, port]. */
export function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new VigilError('BAD_ARGUMENT', `"${s}": expected HOST:PORT`);
  return [s.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port];
}
