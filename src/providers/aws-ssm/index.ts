// `aws-ssm`: AWS Systems Manager Parameter Store over its documented JSON API (SigV4-signed fetch).
// Path: a parameter name (`/app/db/password`; `app/db/password` gets the leading "/").
// Options: version, label, region, encoding (text | base64, for binary values stored as base64).
// This file declares the type (options, query keys, operations); ./provider.ts, its implementation,
// is imported on an instance's first operation (core/lazy-provider.ts).
import type { z as zod } from 'zod';
import { awsCommonConfig } from '../aws/common-config.js';
import { defineProvider } from '../factory.js';
import { z } from '../kit/options.js';

const awsSsmOptions = () => z.strictObject({
  ...awsCommonConfig(),
  /** Decrypt SecureString parameters (needs kms:Decrypt). */
  with_decryption: z.boolean().default(true),
});
export type AwsSsmConfig = zod.infer<ReturnType<typeof awsSsmOptions>>;

export const awsSsmFactory = defineProvider({
  type: 'aws-ssm',
  description: 'AWS SSM Parameter Store (GetParameter with decryption; SigV4, standard credential chain)',
  options: awsSsmOptions,
  usableWithoutConfig: true,
  optionKeys: ['version', 'label', 'region', 'encoding'],
  ops: ['lookupMany', 'version'],
  async load() {
    const { AwsSsmProvider } = await import('../implementations.js');
    return (name, config, deps) => new AwsSsmProvider(name, config, deps.env);
  },
});
