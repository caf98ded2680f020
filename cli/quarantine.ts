// `vigil quarantine --image REF --allow DEST... --reason TEXT`, `--lift`,
// `--list`: deny the egress of the running workloads of an image in the
// kernel except to named destinations (a generated connect-deny rule pushed
// with the signed policy); audited, alerted, noted on its tickets.
import { Option, type Command } from 'commander';
import { VigilError } from '../common/errors';
import type { QuarantineResponse__Output } from '../common/proto/generated/vigil/v1/QuarantineResponse';
import { adminLink, linkOptions, unary, type LinkValues } from './admin';
import { vigilCommand, type CliIo } from './args';
import { imageDigest, vdpClient } from './vdp-link';

interface Values extends LinkValues {
  image?: string;
  allow?: string[];
  workload?: string[];
  reason?: string;
  lift?: boolean;
  list?: boolean;
}

export function quarantineCommand(io?: CliIo): Command {
  const cmd = linkOptions(
    vigilCommand('quarantine', "deny a running image's egress in the kernel except to named destinations (admin; audited; --lift reverses it)")
      .addOption(new Option('--image <ref>', 'the image (name@sha256:... or sha256:...)'))
      .addOption(new Option('--allow <dest...>', 'destinations still allowed: IPs, CIDR blocks, SPIFFE IDs (e.g. the DNS server)'))
      .addOption(new Option('--workload <spiffe-id...>', 'workloads to quarantine besides those seen running the image'))
      .addOption(new Option('--reason <text>', 'why (required: it is audited)'))
      .addOption(new Option('--lift', 'lift the quarantine of --image'))
      .addOption(new Option('--list', 'the quarantines in force')),
  );
  if (io) {
    cmd.action(async (v: Values) => {
      if (!v.list && !v.image) throw new VigilError('BAD_ARGUMENT', 'vigil quarantine: --image is required (or --list)');
      if (!v.list && !v.reason) throw new VigilError('BAD_ARGUMENT', 'vigil quarantine: --reason is required (it is audited)');
      const digest = v.image ? imageDigest(v.image).digest : '';
      const l = adminLink(v, 'vigil quarantine');
      const c = vdpClient(l);
      try {
        const r = await unary<QuarantineResponse__Output>(l.address, (o, cb) =>
          c.Quarantine({ digest, allow: v.allow ?? [], workloads: v.workload ?? [], reason: v.reason ?? '', lift: v.lift === true, list: v.list === true }, o, cb),
        );
        if (v.list) for (const q of r.quarantines) io.out.write(q + '\n');
        else if (v.lift) io.out.write(`quarantine of ${digest} lifted: policy v${r.policy_version}\n`);
        else io.out.write(`${digest} quarantined: policy v${r.policy_version}; workloads ${r.workloads.join(', ')}; allowed: ${(v.allow ?? []).join(', ') || 'nothing'}\n`);
        io.exit(0);
      } finally {
        c.close();
      }
    });
  }
  return cmd;
}
