import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { configSchema } from '../../../src/config/schema.js';
import { checkAccess } from '../../../src/frontends/csi/access.js';
import { parseObjects } from '../../../src/frontends/csi/objects.js';
import { parseProviderParams } from '../../../src/frontends/csi/request.js';
import { DEFAULT_CSI_SOCKET } from '../../../src/frontends/csi/server.js';

const DIR = resolve(import.meta.dirname, '..', '..', '..', 'deploy', 'kubernetes');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'));
  return (Array.isArray(docs) ? docs : [docs]).map((d) => {
    assert.deepEqual(d.errors, [], `${file} parses`);
    return d.toJS();
  });
}

test('the DaemonSet serves the default socket dir with no privileges beyond need', () => {
  const [ds] = load('daemonset.yaml');
  assert.equal(ds.kind, 'DaemonSet');
  const spec = ds.spec.template.spec;
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(spec.hostNetwork, undefined);
  assert.equal(spec.hostPID, undefined);
  const [c] = spec.containers;
  const sc = c.securityContext;
  assert.equal(sc.privileged, false);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
  const providers = spec.volumes.find((v: Doc) => v.name === 'providers-dir');
  assert.equal(providers.hostPath.path, '/var/run/secrets-store-csi-providers');
  // Only the socket dir and keyway's own state come from the host; no kubelet dir, no docker socket.
  const hostPaths = spec.volumes.filter((v: Doc) => v.hostPath).map((v: Doc) => v.hostPath.path).sort();
  assert.deepEqual(hostPaths, ['/var/lib/keyway', '/var/run/secrets-store-csi-providers']);
  for (const m of c.volumeMounts) assert.notEqual(m.mountPropagation, 'Bidirectional');
});

test('the ConfigMap is a valid keyway config that enables only the CSI socket at the default path', () => {
  const [cm] = load('configmap.yaml');
  const config = configSchema.parse(parseToml(cm.data['keyway.toml']));
  assert.equal(config.csi.enabled, true);
  assert.equal(config.csi.socket, DEFAULT_CSI_SOCKET);
  assert.equal(config.docker.enabled, false);
  assert.deepEqual(Object.keys(config.csi.access ?? {}), ['shop']);
});

test('RBAC grants nothing: a service account without a token or bindings', () => {
  const docs = load('rbac.yaml');
  assert.deepEqual(docs.map((d) => d.kind), ['ServiceAccount']);
  assert.equal(docs[0].automountServiceAccountToken, false);
  const kust = load('kustomization.yaml')[0];
  assert.deepEqual(kust.resources, ['rbac.yaml', 'configmap.yaml', 'daemonset.yaml']);
});

test('the example SecretProviderClass parses with keyway\'s own parser and the pod uses it', () => {
  const [spc] = load('example/secretproviderclass.yaml');
  assert.equal(spc.spec.provider, 'keyway');
  const objects = parseObjects(spc.spec.parameters.objects);
  assert.deepEqual(objects.map((o) => o.objectName), ['db/password', 'api-key', 'tls/tls.crt']);
  assert.equal(objects[1]?.mode, 0o444);
  assert.deepEqual(parseProviderParams(spc.spec.parameters.providerParams), { role: 'shop-web' });
  const [pod] = load('example/pod.yaml');
  const vol = pod.spec.volumes[0];
  assert.equal(vol.csi.driver, 'secrets-store.csi.k8s.io');
  assert.equal(vol.csi.volumeAttributes.secretProviderClass, spc.metadata.name);
  assert.equal(pod.metadata.namespace, spc.metadata.namespace);
  // The example config's [csi.access] lets exactly that namespace mount those objects.
  const [cm] = load('configmap.yaml');
  const access = configSchema.parse(parseToml(cm.data['keyway.toml'])).csi.access;
  checkAccess(access, pod.metadata.namespace, objects);
  assert.throws(() => checkAccess(access, 'default', objects), { code: 'permission_denied' });
});
