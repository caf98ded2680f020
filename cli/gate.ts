// `vigil gate --image REF [--policy FILE]`: for CI pipelines. Asks the
// control plane what advisories match the image (with runtime evidence)
// and applies the gate policy (controlplane/vdp/gate.ts): exit 0 to deploy,
// 1 to block, with one line per finding saying why.
import { Option, type Command } from 'commander';
import { printable } from '../common/escape';
import type { ImageMatchesResponse__Output } from '../common/proto/generated/vigil/v1/ImageMatchesResponse';
import { adminLink, linkOptions, unary, type LinkValues } from './admin';
import { need, vigilCommand, type CliIo } from './args';
import { Exit } from './exit-codes';
import { imageDigest, vdpClient } from './vdp-link';

interface Values extends LinkValues {
  image?: string;
  policy?: string;
}

export function gateCommand(io?: CliIo): Command {
  const cmd = linkOptions(
    vigilCommand('gate', 'for CI: exit 1 when the image has an advisory at or above the policy severity that is neither fixed nor not_affected with evidence')
      .addOption(new Option('--image <ref>', 'the image to deploy (name@sha256:...)'))
      .addOption(new Option('--policy <file>', 'thresholds and exceptions with expiry dates (default: fail on high and critical, affected or under investigation)')),
  );
  if (io) {
    cmd.action(async (v: Values) => {
      const img = imageDigest(need(v.image, '--image', cmd));
      const { DEFAULT_GATE, evaluateGate, loadGatePolicy } = await import('../controlplane/vdp/gate');
      const policy = v.policy ? loadGatePolicy(v.policy) : DEFAULT_GATE;
      const l = adminLink(v, 'vigil gate');
      const c = vdpClient(l);
      try {
        const r = await unary<ImageMatchesResponse__Output>(l.address, (o, cb) => c.ImageMatches({ digest: img.digest }, o, cb));
        const verdict = evaluateGate({ digest: img.digest, name: r.name || img.name, known: r.known }, r.matches.map((m) => JSON.parse(m)), policy);
        for (const line of verdict.lines) (verdict.pass ? io.out : io.err).write(printable(line) + '\n');
        io.exit(verdict.pass ? Exit.OK : Exit.FAILED);
      } finally {
        c.close();
      }
    });
  }
  return cmd;
}
