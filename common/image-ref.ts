// Container image references: what the identities file, the Kubernetes pod
// status, the CLI (`--image REF`) and the control plane say about the image
// a workload runs. The digest is what identifies an image (the same bytes on
// every node); the name is for people. Everything here is hostile input:
// strict shapes, bounded lengths, errors that name what was wrong.
import { PackageURL } from 'packageurl-js';

export interface ImageRef {
  /** repository, with registry and path, without tag or digest ("docker.io/library/debian"); null when only a digest is known */
  name: string | null;
  /** the tag, when the reference carried one ("12") */
  tag: string | null;
  /** "sha256:<64 hex>", null when only a name is known */
  digest: string | null;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
// distribution/reference: path components of lowercase alphanumerics and separators, an optional registry host[:port]
const NAME = /^(?:[a-zA-Z0-9][a-zA-Z0-9.-]*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MAX_REF = 512;

/**
 * "name[:tag][@sha256:hex]" or "sha256:hex" (or the bare 64 hex digits).
 * Returns the reference or why it is not one.
 */
export function parseImageRef(s: string): ImageRef | { error: string } {
  if (s.length === 0 || s.length > MAX_REF) return { error: `an image reference is 1 to ${MAX_REF} characters` };
  if (/^[0-9a-f]{64}$/.test(s)) return { name: null, tag: null, digest: `sha256:${s}` };
  if (s.startsWith('sha256:')) {
    return DIGEST.test(s) ? { name: null, tag: null, digest: s } : { error: `"${s}": a digest is sha256: and 64 lowercase hex digits` };
  }
  let rest = s;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { error: `"${s}": the digest after "@" must be sha256: and 64 lowercase hex digits` };
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { error: `"${s}": "${tag}" is not a valid tag` };
  }
  if (!NAME.test(rest)) return { error: `"${s}": "${rest}" is not a valid image name` };
  return { name: rest, tag, digest };
}

/**
 * A repository name as Docker and the kubelet spell it in full
 * (distribution/reference's ParseNormalizedNamed): no registry means Docker
 * Hub ("nginx" -> "docker.io/library/nginx", "me/app" -> "docker.io/me/app");
 * a first component with a "." or ":" or "localhost" is a registry;
 * "index.docker.io" is "docker.io". Rules compare names in this form, so
 * that "nginx" in a rule and "docker.io/library/nginx" from a pod are one.
 */
export function normalizeImageName(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) return slash < 0 ? `docker.io/library/${name}` : `docker.io/${name}`;
  const rest = name.slice(slash + 1);
  if (first === 'index.docker.io' || first === 'docker.io') return rest.includes('/') ? `docker.io/${rest}` : `docker.io/library/${rest}`;
  return name;
}

/** The image a Kubernetes container status names: `image` (what was asked for) and `imageID` (what runs, by digest). */
export function imageFromStatus(image: string | undefined, imageID: string | undefined): ImageRef | null {
  const named = image ? parseImageRef(image) : null;
  let digest: string | null = null;
  let fromId: ImageRef | null = null;
  if (imageID) {
    // docker-pullable://name@sha256:..., docker://sha256:..., containerd's name@sha256:... or sha256:...
    const id = imageID.replace(/^[a-z-]+:\/\//, '');
    const parsed = parseImageRef(id);
    if (!('error' in parsed)) {
      fromId = parsed;
      digest = parsed.digest;
    }
  }
  const base = named && !('error' in named) ? named : null;
  if (!base && !fromId) return null;
  return { name: base?.name ?? fromId?.name ?? null, tag: base?.tag ?? null, digest: digest ?? base?.digest ?? null };
}

/** "name[:tag]@sha256:..." for people and logs. */
export function formatImageRef(r: ImageRef): string {
  const name = r.name ? `${r.name}${r.tag ? `:${r.tag}` : ''}` : '';
  if (!r.digest) return name;
  return name ? `${name}@${r.digest}` : r.digest;
}

/**
 * The image as a package URL (purl spec, type oci): pkg:oci/NAME@sha256:...?repository_url=REPO.
 * Null without a digest: an OCI purl names an image by its digest.
 */
export function ociPurl(r: ImageRef): string | null {
  if (!r.digest) return null;
  const repo = r.name ?? null;
  const last = repo ? repo.slice(repo.lastIndexOf('/') + 1) : 'image';
  const qualifiers: Record<string, string> = {};
  if (repo) qualifiers.repository_url = repo;
  if (r.tag) qualifiers.tag = r.tag;
  return new PackageURL('oci', undefined, last, r.digest, Object.keys(qualifiers).length ? qualifiers : undefined, undefined).toString();
}
