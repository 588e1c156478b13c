// CSI scenario: Mount of 50 cached objects through the real broker, over gRPC on a unix socket,
// vs a bare grpc-js server answering the same Mount with the same 50 files from memory (the
// transport's floor). Run alone with `node --import tsx bench/csi.ts`, or as part of `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { runPair, table, type Row, type Scenario } from './lib.js';
import { silentLogger } from '../src/core/logger.js';
import { SecretValue } from '../src/core/secret-value.js';
import type { Provider } from '../src/core/provider.js';
import { openDb } from '../src/store/db.js';
import { SecretsRepo } from '../src/store/secrets.js';
import { AuditLog } from '../src/store/audit.js';
import { ProviderRegistry } from '../src/broker/registry.js';
import { Broker } from '../src/broker/broker.js';
import { CsiFrontend } from '../src/frontends/csi/server.js';
import { csiService, type MountRequest } from '../src/frontends/csi/proto.js';
import { attributes, dial } from '../test/frontends/csi/harness.js';

const OBJECTS = 50;
const VALUE_BYTES = 256;

export const csiMount: Scenario = {
  name: 'csi-mount',
  async run(): Promise<Row[]> {
    const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-csi-'));
    const db = openDb(join(dir, 'state'));
    let upstream = 0;
    // A backend with a realistic round trip, so a cache miss would show.
    const kv: Provider = {
      type: 'kv',
      name: 'kv',
      optionKeys: [],
      async lookup(req) {
        upstream++;
        await new Promise((r) => setTimeout(r, 5));
        return SecretValue.copyOf(Buffer.alloc(VALUE_BYTES, req.path));
      },
    };
    const broker = new Broker({
      registry: new ProviderRegistry([{ get: (n) => (n === 'kv' ? kv : undefined), has: (n) => n === 'kv', names: () => ['kv'] }]),
      secrets: new SecretsRepo(db),
      audit: new AuditLog(db),
      logger: silentLogger(),
      maxSecretBytes: 1 << 20,
    });
    const frontend = new CsiFrontend({ socket: join(dir, 'keyway.sock'), resolver: broker, logger: silentLogger(), stateDir: join(dir, 'state'), version: 'bench' });
    const floor = new Server();
    const objects = Array.from({ length: OBJECTS }, (_, i) => `- {objectName: obj-${i}, ref: "ref+kv://secret/${i}"}`).join('\n');
    const req: Partial<MountRequest> = { attributes: attributes(objects, {}, { vault: { token: 'x'.repeat(900), expirationTimestamp: '2030-01-01T00:00:00Z' } }) };
    const client = dial(join(dir, 'keyway.sock'));
    const floorClient = dial(join(dir, 'floor.sock'));
    try {
      await frontend.start();
      const warm = await client.mount(req); // fills the broker cache
      floor.addService(csiService(), {
        Version: (_c: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, { version: 'v1alpha1' }),
        Mount: (_c: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, warm),
      });
      await new Promise<void>((resolve, reject) => floor.bindAsync(`unix:${join(dir, 'floor.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
      const cold = upstream;
      const row = await runPair({
        name: `CSI Mount, ${OBJECTS} cached objects`,
        keywayLabel: 'Mount via broker (cached)',
        baselineLabel: 'bare gRPC, same files from memory',
        warmup: 50,
        reps: 500,
        keyway: async () => void (await client.mount(req)),
        baseline: async () => void (await floorClient.mount(req)),
      });
      const hits = upstream === cold ? 'all cache hits' : `${upstream - cold} upstream calls while timed`;
      return [{ ...row, note: `${OBJECTS} × ${VALUE_BYTES} B; ${hits}` }];
    } finally {
      client.close();
      floorClient.close();
      floor.forceShutdown();
      await frontend.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  console.log(table(await csiMount.run()));
}
