// Synthetic alerts for control-plane tests: what the agent would raise, with
// the node and trust domain a test names (alert i has pid i).
import type { Alert } from '../../agent/export/alert';
import { rfc3339Nanos } from '../../common/time';

export function testAlert(i: number, node: string, td: string, extra: Partial<Alert> = {}): Alert {
  return {
    time: rfc3339Nanos(BigInt(Date.now()) * 1_000_000n),
    rule: `rule-${i % 7}`,
    priority: 'warning',
    action: 'alert',
    outcome: 'alerted',
    tags: [],
    node,
    output: `alert ${i}`,
    workload: { spiffe_id: `spiffe://${td}/ns/x/sa/y`, cgroup_id: 1, cgroup: '/', container_id: null, pod_uid: null, kubernetes: null, image: null },
    process: { pid: i, ppid: 1, exe: '/bin/x', args: ['x'], uid: 0, exec_id: null, parent_exe: null },
    event: { kind: 'exec', n: i },
    ...extra,
  };
}
