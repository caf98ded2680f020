// Image references as the identities file, Kubernetes and the CLI give them.
import * as assert from 'node:assert/strict';
import { formatImageRef, imageFromStatus, normalizeImageName, ociPurl, parseImageRef } from '../../common/image-ref';

const D = `sha256:${'c0'.repeat(32)}`;

describe('image references', () => {
  it('parses name, tag and digest in every combination', () => {
    assert.deepEqual(parseImageRef('debian'), { name: 'debian', tag: null, digest: null });
    assert.deepEqual(parseImageRef('debian:12'), { name: 'debian', tag: '12', digest: null });
    assert.deepEqual(parseImageRef(`localhost:5000/team/app:v1.2@${D}`), { name: 'localhost:5000/team/app', tag: 'v1.2', digest: D });
    assert.deepEqual(parseImageRef(`quay.io/org/app@${D}`), { name: 'quay.io/org/app', tag: null, digest: D });
    assert.deepEqual(parseImageRef(D), { name: null, tag: null, digest: D });
    assert.deepEqual(parseImageRef('c0'.repeat(32)), { name: null, tag: null, digest: D });
  });

  it('refuses what is not a reference, saying why', () => {
    for (const [bad, why] of [
      ['', /1 to 512 characters/],
      ['x'.repeat(600), /1 to 512 characters/],
      ['sha256:abc', /64 lowercase hex/],
      [`app@sha256:${'C0'.repeat(32)}`, /64 lowercase hex/],
      ['App/Upper', /not a valid image name/],
      ['app:bad tag', /not a valid tag/],
      ['app\nINJECTED', /not a valid/],
      ['../../etc/passwd', /not a valid image name/],
    ] as const) {
      const r = parseImageRef(bad);
      assert.ok('error' in r, `${JSON.stringify(bad)} refused`);
      assert.match(r.error, why);
    }
  });

  it('Kubernetes status: the name from image, the digest from imageID in each runtime\'s form', () => {
    for (const id of [`docker-pullable://reg.io/app@${D}`, `reg.io/app@${D}`, `docker://${D}`, D]) {
      assert.deepEqual(imageFromStatus('reg.io/app:3', id), { name: 'reg.io/app', tag: '3', digest: D }, id);
    }
    assert.deepEqual(imageFromStatus('reg.io/app:3', ''), { name: 'reg.io/app', tag: '3', digest: null }, 'not pulled yet');
    assert.deepEqual(imageFromStatus('Bad Name', `reg.io/app@${D}`), { name: 'reg.io/app', tag: null, digest: D });
    assert.equal(imageFromStatus(undefined, 'Not A Ref!'), null);
  });

  it('formats for people, and as an OCI package URL (only with a digest)', () => {
    assert.equal(formatImageRef({ name: 'reg.io/app', tag: '3', digest: D }), `reg.io/app:3@${D}`);
    assert.equal(formatImageRef({ name: null, tag: null, digest: D }), D);
    assert.equal(ociPurl({ name: 'reg.io/team/app', tag: '3', digest: D }), `pkg:oci/app@${D}?repository_url=reg.io%2Fteam%2Fapp&tag=3`);
    assert.equal(ociPurl({ name: null, tag: null, digest: D }), `pkg:oci/image@${D}`);
    assert.equal(ociPurl({ name: 'reg.io/app', tag: null, digest: null }), null);
  });

  it('normalizes names as Docker and the kubelet spell them (what rules compare)', () => {
    assert.equal(normalizeImageName('nginx'), 'docker.io/library/nginx');
    assert.equal(normalizeImageName('me/app'), 'docker.io/me/app');
    assert.equal(normalizeImageName('docker.io/nginx'), 'docker.io/library/nginx');
    assert.equal(normalizeImageName('index.docker.io/library/nginx'), 'docker.io/library/nginx');
    assert.equal(normalizeImageName('index.docker.io/me/app'), 'docker.io/me/app');
    assert.equal(normalizeImageName('docker.io/library/nginx'), 'docker.io/library/nginx');
    assert.equal(normalizeImageName('localhost/vigil-test-busybox'), 'localhost/vigil-test-busybox');
    assert.equal(normalizeImageName('localhost:5000/x'), 'localhost:5000/x');
    assert.equal(normalizeImageName('quay.io/org/app'), 'quay.io/org/app');
    assert.equal(normalizeImageName('registry.k8s.io/kube-proxy'), 'registry.k8s.io/kube-proxy');
  });
});
