// An AWS emulator that accepts one static key, stopped after the test, and the environment a
// provider signs with: that key, a region, its own empty HOME (so no ~/.aws of the host is read)
// and no instance-metadata lookups.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsEmulator } from './emulator.js';

export interface AwsFixtureOptions {
  readonly akid: string;
  readonly secretKey: string;
  readonly region?: string;
  /** The variable the region is given in (the SDK reads both). */
  readonly regionVar?: 'AWS_REGION' | 'AWS_DEFAULT_REGION';
  readonly prefix?: string;
}

export interface AwsFixture {
  readonly emu: AwsEmulator;
  readonly home: string;
  readonly env: Record<string, string>;
}

export async function awsFixture(t: { after: (fn: () => Promise<void>) => void }, opts: AwsFixtureOptions): Promise<AwsFixture> {
  const region = opts.region ?? 'us-east-1';
  const emu = await new AwsEmulator(region).start();
  emu.addKey(opts.akid, opts.secretKey);
  const home = mkdtempSync(join(tmpdir(), opts.prefix ?? 'kw-aws-home-'));
  t.after(async () => {
    await emu.stop();
    rmSync(home, { recursive: true, force: true });
  });
  const env = { HOME: home, [opts.regionVar ?? 'AWS_REGION']: region, AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: opts.akid, AWS_SECRET_ACCESS_KEY: opts.secretKey };
  return { emu, home, env };
}
