// `vigil sbom show`: the components the control plane holds for an image as
// a CycloneDX 1.6 JSON SBOM (the imported one, or the one built from the
// image's package databases), each component's files as
// evidence.occurrences and where they came from as a vigil:files-source
// property.
import { randomUUID } from 'node:crypto';
import { formatImageRef, ociPurl } from '../../common/image-ref';
import { nowNs, rfc3339Nanos } from '../../common/time';
import { VIGIL_VERSION } from '../../common/version';
import type { ReachStore } from './store';

export function cycloneDxOf(reach: ReachStore, digest: string): { json: string; origin: 'import' | 'agent' } | null {
  const comps = reach.componentFiles(digest);
  if (comps.length === 0) return null;
  const image = reach.image(digest);
  const ref = { name: image?.name || null, tag: null, digest };
  const purl = ociPurl(ref);
  const bom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: rfc3339Nanos(BigInt(nowNs())).replace(/\.\d+Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: 'vigil', version: VIGIL_VERSION }] },
      component: { 'bom-ref': 'image', type: 'container', name: formatImageRef(ref), version: digest, ...(purl ? { purl } : {}) },
    },
    components: comps.map(({ component: c, files }, i) => ({
      'bom-ref': `c${i + 1}`,
      type: c.type === 'application' || c.type === 'operating-system' || c.type === 'framework' ? c.type : 'library',
      name: c.name,
      ...(c.version ? { version: c.version } : {}),
      ...(c.purl ? { purl: c.purl } : {}),
      ...(files.length ? { evidence: { occurrences: files.map((location) => ({ location })) } } : {}),
      properties: [
        { name: 'vigil:origin', value: c.origin },
        { name: 'vigil:files-source', value: c.file_source || 'none' },
      ],
    })),
  };
  return { json: JSON.stringify(bom, null, 2), origin: comps[0].component.origin };
}
