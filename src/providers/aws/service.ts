// One AWS JSON service as a provider instance uses it: credentials from the standard chain, and a
// signing target per region (the configured one, or `?region=` of a reference), made on first use.
import { providerLabel } from '../../core/provider.js';
import { AwsCredentialChain } from './credentials.js';
import type { AwsCommonConfig } from './common-config.js';
import { awsJsonCall, type AwsJsonTarget } from './json-client.js';
import { awsProfile, resolveEndpoint, resolveRegion, type Env } from './settings.js';

export interface AwsServiceSpec {
  /** Provider type, for messages: `aws-sm`. */
  readonly type: string;
  /** `SECRETS_MANAGER` in AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly envKey: string;
  /** Host prefix of the public endpoint and signing name: `secretsmanager`, `ssm`. */
  readonly service: string;
  /** X-Amz-Target prefix: `secretsmanager`, `AmazonSSM`. */
  readonly targetPrefix: string;
}

export class AwsService {
  readonly #spec: AwsServiceSpec;
  readonly #config: AwsCommonConfig;
  readonly #env: Env;
  readonly #where: string;
  readonly #credentials: AwsCredentialChain;
  readonly #targets = new Map<string, AwsJsonTarget>();

  constructor(spec: AwsServiceSpec, name: string, config: AwsCommonConfig, env: Env) {
    this.#spec = spec;
    this.#config = config;
    this.#env = env;
    this.#where = providerLabel(spec.type, name);
    this.#credentials = new AwsCredentialChain({ ...(config.profile !== undefined ? { profile: config.profile } : {}), env, what: this.#where });
  }

  /** One signed call of `operation` in the region of `regionOption`, else the configured one. */
  call(regionOption: string | undefined, operation: string, input: Record<string, unknown>, signal: AbortSignal, what: string): Promise<Record<string, unknown>> {
    return awsJsonCall(this.#target(regionOption), operation, input, signal, what);
  }

  #target(regionOption: string | undefined): AwsJsonTarget {
    const region = resolveRegion(regionOption ?? this.#config.region, awsProfile(this.#config.profile, this.#env), this.#env, this.#where);
    let t = this.#targets.get(region);
    if (!t) {
      const { envKey, service, targetPrefix } = this.#spec;
      t = { endpoint: resolveEndpoint(this.#config.endpoint, envKey, service, region, this.#env), region, service, targetPrefix, credentials: this.#credentials, timeoutMs: this.#config.timeout_ms };
      this.#targets.set(region, t);
    }
    return t;
  }
}
