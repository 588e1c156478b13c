// `aws-sm`: AWS Secrets Manager over its documented JSON API (SigV4-signed fetch, no SDK).
// Path: a secret name or ARN. Options: version_id, version_stage, region.
// This file declares the type (options, query keys, operations); ./provider.ts, its implementation,
// is imported on an instance's first operation (core/lazy-provider.ts).
import { awsCommonConfig } from '../aws/common-config.js';
import { defineProvider } from '../factory.js';
import { z } from '../kit/options.js';

export const awsSmFactory = defineProvider({
  type: 'aws-sm',
  description: 'AWS Secrets Manager (GetSecretValue, BatchGetSecretValue; SigV4, standard credential chain)',
  options: () => z.strictObject(awsCommonConfig()),
  usableWithoutConfig: true,
  optionKeys: ['version_id', 'version_stage', 'region'],
  ops: ['lookupMany', 'version', 'list'],
  async load() {
    const { AwsSmProvider } = await import('../implementations.js');
    return (name, config, deps) => new AwsSmProvider(name, config, deps.env);
  },
});
