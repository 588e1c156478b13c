// Options shared by the AWS provider types (`[providers.NAME]` tables); built on first use.
import type { z as zod } from 'zod';
import { httpUrl, requestTimeoutMs, z } from '../kit/options.js';

export const awsCommonConfig = () => ({
  /** AWS region; default from AWS_REGION / AWS_DEFAULT_REGION / the profile in ~/.aws/config. */
  region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'expected an AWS region such as eu-west-1').optional(),
  /** Named profile of ~/.aws/credentials and ~/.aws/config; when set, AWS_ACCESS_KEY_ID is ignored. */
  profile: z.string().min(1).max(128).optional(),
  /** Endpoint URL (VPC endpoints, FIPS, emulators); default the public regional endpoint. */
  endpoint: httpUrl().optional(),
  /** Per-request timeout in milliseconds. */
  timeout_ms: requestTimeoutMs(),
});

/** What these options parse to, on their own (aws-sm) or inside a type's larger object (aws-ssm). */
export type AwsCommonConfig = zod.infer<zod.ZodObject<ReturnType<typeof awsCommonConfig>>>;
