// `vigil advisories import FILE|DIR...`, `vigil advisories add`, `vigil
// advisories list`: advisories into the control plane (OSV, GitHub advisory
// JSON, CycloneDX VDR/VEX; an internal report by purl and range) and what
// they match in the fleet.
import { Option, type Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from '../common/errors';
import { printable } from '../common/escape';
import type { ImportAdvisoriesResponse__Output } from '../common/proto/generated/vigil/v1/ImportAdvisoriesResponse';
import type { ListAdvisoriesResponse__Output } from '../common/proto/generated/vigil/v1/ListAdvisoriesResponse';
import { adminLink, linkOptions, unary, type LinkValues } from './admin';
import { need, outputFormat, vigilCommand, type CliIo } from './args';
import { imageDigest, vdpClient } from './vdp-link';

const MAX_FILE = 32 << 20;

/** Files named, and the .json files of directories named (not recursive). */
export function advisoryFiles(paths: readonly string[]): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new VigilError('BAD_ARGUMENT', `vigil advisories import: ${p} does not exist`);
    }
    const files = st.isDirectory()
      ? fs
          .readdirSync(p)
          .filter((n) => n.endsWith('.json'))
          .sort()
          .map((n) => path.join(p, n))
      : [p];
    if (st.isDirectory() && files.length === 0) throw new VigilError('BAD_ARGUMENT', `vigil advisories import: ${p} holds no .json file`);
    for (const f of files) {
      if (fs.statSync(f).size > MAX_FILE) throw new VigilError('BAD_ARGUMENT', `vigil advisories import: ${f} is larger than ${MAX_FILE} bytes`);
      out.push({ name: f, text: fs.readFileSync(f, 'utf8') });
    }
  }
  return out;
}

function summary(r: ImportAdvisoriesResponse__Output): string {
  return `${r.added} new, ${r.updated} updated, ${r.unchanged} unchanged; ${r.matches} matches in the fleet\n`;
}

interface AddValues extends LinkValues {
  id?: string;
  purl?: string;
  affected?: string;
  severity: string;
  summary: string;
  fixed?: string;
}

interface ListValues extends LinkValues {
  image?: string;
  output?: 'json' | 'text';
}

export function advisoriesCommand(io?: CliIo): Command {
  const imp = linkOptions(vigilCommand('import', 'import advisories: OSV JSON, GitHub advisory JSON, CycloneDX VDR/VEX (files, or the .json files of directories)').argument('<path...>', 'files or directories'));
  const add = linkOptions(
    vigilCommand('add', 'an internal report (security.txt intake after triage) as an advisory')
      .addOption(new Option('--id <id>', 'its id (e.g. VIGIL-2026-0001)'))
      .addOption(new Option('--purl <purl>', 'the package, without a version (pkg:npm/left-pad)'))
      .addOption(new Option('--affected <range>', 'the affected versions: ">= 1.0.0, < 1.3.1" or a vers range'))
      .addOption(new Option('--severity <level>', 'none, low, medium, high, critical').default('high'))
      .addOption(new Option('--summary <text>', 'one line').default(''))
      .addOption(new Option('--fixed <version>', 'the first fixed version')),
  );
  const list = linkOptions(
    vigilCommand('list', 'advisories and their matches in the fleet (status and runtime evidence)')
      .addOption(new Option('--image <ref>', 'only this image (name@sha256:...)'))
      .addOption(new Option('-o, --output <format>', 'json or text (default: text on a terminal)').argParser(outputFormat())),
  );
  if (io) {
    imp.action(async (paths: string[], v: LinkValues) => {
      const files = advisoryFiles(paths);
      const l = adminLink(v, 'vigil advisories import');
      const c = vdpClient(l);
      try {
        const r = await unary<ImportAdvisoriesResponse__Output>(l.address, (o, cb) => c.ImportAdvisories({ files }, o, cb));
        io.out.write(summary(r));
        for (const e of r.errors) io.err.write(`vigil advisories import: refused: ${printable(e)}\n`);
        io.exit(r.errors.length ? 1 : 0);
      } finally {
        c.close();
      }
    });
    add.action(async (v: AddValues) => {
      need(v.id, '--id', add);
      need(v.purl, '--purl', add);
      need(v.affected, '--affected', add);
      const l = adminLink(v, 'vigil advisories add');
      const c = vdpClient(l);
      try {
        const r = await unary<ImportAdvisoriesResponse__Output>(l.address, (o, cb) =>
          c.AddAdvisory({ id: need(v.id, '--id', add), purl: need(v.purl, '--purl', add), affected: need(v.affected, '--affected', add), severity: v.severity, summary: v.summary, fixed: v.fixed ?? '' }, o, cb),
        );
        io.out.write(summary(r));
        io.exit(0);
      } finally {
        c.close();
      }
    });
    list.action(async (v: ListValues) => {
      const l = adminLink(v, 'vigil advisories list');
      const digest = v.image ? imageDigest(v.image).digest : '';
      const c = vdpClient(l);
      try {
        const r = await unary<ListAdvisoriesResponse__Output>(l.address, (o, cb) => c.ListAdvisories({ digest }, o, cb));
        if ((v.output ?? (io.out.isTTY ? 'text' : 'json')) === 'json') {
          for (const a of r.advisories) io.out.write(`{"advisory":${a}}\n`);
          for (const m of r.matches) io.out.write(`{"match":${m}}\n`);
        } else {
          for (const a of r.advisories) {
            const x = JSON.parse(a) as { id: string; severity: string; summary: string; source: string };
            io.out.write(printable(`${x.id} ${x.severity.toUpperCase()} (${x.source}) ${x.summary}`) + '\n');
          }
          for (const m of r.matches) {
            const x = JSON.parse(m) as { advisory: string; image: string; digest: string; purl: string; status: string; evidence: string };
            io.out.write(printable(`  ${x.advisory} ${x.image || ''}@${x.digest.slice(0, 19)} ${x.purl}: ${x.status}: ${x.evidence}`) + '\n');
          }
        }
        io.exit(0);
      } finally {
        c.close();
      }
    });
  }
  return vigilCommand('advisories', 'vulnerability advisories and what they match in the fleet').addCommand(imp).addCommand(add).addCommand(list);
}
