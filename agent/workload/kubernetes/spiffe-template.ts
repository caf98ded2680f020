// SPIFFE IDs for pods from a template (--spiffe-template), checked when it
// is compiled: an unknown placeholder, or a template that cannot make a
// SPIFFE ID for a sample pod, is refused before the agent starts.
import type * as k8s from '@kubernetes/client-node';
import { VigilError } from '../../../common/errors';
import { checkSpiffeId, checkTrustDomain } from '../../../common/spiffe/spiffe-id';

type Placeholder = (pod: k8s.V1Pod, td: string, node: string) => string | undefined;

/** Parse a SPIFFE ID template; unknown placeholders and templates that cannot make a SPIFFE ID are refused. */
export function compileTemplate(template: string, trustDomain: string): (pod: k8s.V1Pod, node: string) => string | null {
  const parts: (string | Placeholder)[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    parts.push(template.slice(last, m.index));
    const name = m[1];
    if (name === 'trust_domain') parts.push((_p, td) => td);
    else if (name === 'namespace') parts.push((p) => p.metadata?.namespace);
    else if (name === 'service_account') parts.push((p) => p.spec?.serviceAccountName || 'default');
    else if (name === 'pod') parts.push((p) => p.metadata?.name);
    else if (name === 'node') parts.push((_p, _td, node) => node);
    else if (name.startsWith('label:') && name.length > 6) parts.push((p) => p.metadata?.labels?.[name.slice(6)]);
    else if (name.startsWith('annotation:') && name.length > 11) parts.push((p) => p.metadata?.annotations?.[name.slice(11)]);
    else {
      throw new VigilError(
        'BAD_ARGUMENT',
        `--spiffe-template "${template}": unknown placeholder {${name}} (expected {trust_domain}, {namespace}, {service_account}, {pod}, {node}, {label:KEY}, {annotation:KEY})`,
      );
    }
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  if (/[{}]/.test(parts.filter((p) => typeof p === 'string').join(''))) {
    throw new VigilError('BAD_ARGUMENT', `--spiffe-template "${template}": unbalanced { or }`);
  }
  const badTd = checkTrustDomain(trustDomain);
  if (badTd) throw new VigilError('BAD_ARGUMENT', `--workload-trust-domain "${trustDomain}": ${badTd}`);
  const render = (pod: k8s.V1Pod, node: string): string | null => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(pod, trustDomain, node);
        if (v === undefined || v === '') return null;
        out += v;
      }
    }
    return checkSpiffeId(out).ok ? out : null;
  };
  const sample: k8s.V1Pod = {
    metadata: { namespace: 'default', name: 'pod', labels: new Proxy({}, { get: () => 'x' }), annotations: new Proxy({}, { get: () => 'x' }) },
    spec: { serviceAccountName: 'default', containers: [] },
  };
  let probe = '';
  for (const p of parts) probe += typeof p === 'string' ? p : (p(sample, trustDomain, 'node') ?? '');
  const c = checkSpiffeId(probe);
  if (!c.ok) throw new VigilError('BAD_ARGUMENT', `--spiffe-template "${template}": makes "${probe}" for a sample pod, which is not a SPIFFE ID: ${c.reason}`);
  return render;
}
