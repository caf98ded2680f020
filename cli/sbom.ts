// `vigil sbom import FILE --image REF` and `vigil sbom show --image REF`:
// SBOMs in and out of the control plane (docs/vex.md). The file is read and
// checked here (errors name the file and the JSON path); the control plane
// stores its components and the files each owns.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { GetSbomResponse__Output } from '../common/proto/generated/vigil/v1/GetSbomResponse';
import type { ImportSbomResponse__Output } from '../common/proto/generated/vigil/v1/ImportSbomResponse';
import { adminLink, linkOptions, queryClient, unary, type AdminLink, type LinkValues } from './admin';
import { jsonFileArgument, need, vigilCommand, type CliIo } from './args';

export async function importSbom(l: AdminLink, file: string, image: string): Promise<{ text: string }> {
  const parsed = await jsonFileArgument(file, (await import('../controlplane/reach/parse/sbom')).parseSbom);
  const c = queryClient(l);
  try {
    const r = await unary<ImportSbomResponse__Output>(l.address, (o, cb) =>
      c.ImportSbom({ image, format: parsed.format, sha256: parsed.sha256, components: parsed.components.map((x) => ({ ...x, files: [...x.files] })) }, o, cb),
    );
    const refused = parsed.refused.count ? `; ${parsed.refused.count} entries ignored:\n  ${parsed.refused.first.join('\n  ')}${parsed.refused.count > parsed.refused.first.length ? '\n  ...' : ''}` : '';
    const withFiles = parsed.components.filter((x) => x.files.length > 0).length;
    return {
      text:
        `${parsed.format} SBOM stored for ${r.digest}: ${r.components} components, ${r.files} files ` +
        `(${withFiles} components with files of their own; the others take theirs from the image's package databases once an agent sees the image run)${refused}\n`,
    };
  } finally {
    c.close();
  }
}

export async function showSbom(l: AdminLink, image: string): Promise<GetSbomResponse__Output> {
  const c = queryClient(l);
  try {
    return await unary<GetSbomResponse__Output>(l.address, (o, cb) => c.GetSbom({ image }, o, cb));
  } finally {
    c.close();
  }
}

interface SbomValues extends LinkValues {
  image?: string;
}

export function sbomCommand(io?: CliIo): Command {
  const imageOption = (): Option => new Option('--image <ref>', 'the image, by digest: name@sha256:... or sha256:...');
  const imp = linkOptions(vigilCommand('import', 'store an SBOM (CycloneDX 1.5/1.6 JSON or SPDX 2.3 JSON, as syft and trivy write them) for an image').argument('<file>', 'the SBOM').addOption(imageOption()));
  const show = linkOptions(vigilCommand('show', "print an image's SBOM as CycloneDX 1.6 JSON: the imported one, or the one built from the image's package databases").addOption(imageOption()));
  if (io) {
    imp.action(async (file: string, v: SbomValues) => {
      const r = await importSbom(adminLink(v, 'vigil sbom import'), file, need(v.image, '--image', imp));
      io.out.write(r.text);
      io.exit(0);
    });
    show.action(async (v: SbomValues) => {
      const r = await showSbom(adminLink(v, 'vigil sbom show'), need(v.image, '--image', show));
      io.out.write(r.cyclonedx_json + '\n');
      io.exit(0);
    });
  }
  return vigilCommand('sbom', 'SBOMs of images, for runtime reachability (docs/vex.md)').addCommand(imp).addCommand(show);
}
