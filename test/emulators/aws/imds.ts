// EC2 instance metadata (IMDSv2) and the ECS container credentials endpoint, as far as the AWS
// credential chain uses them: a session token from PUT /latest/api/token, the role name, the role's
// temporary credentials; the container endpoint checks its Authorization header.
import { HttpEmulator, type EmulatorRequest, type EmulatorResponse } from '../http.js';

export interface TemporaryCredentials {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
  readonly Token: string;
  readonly Expiration: string;
}

export class MetadataEmulator extends HttpEmulator {
  role = 'keyway-test-role';
  containerAuthorization: string | undefined;
  readonly #tokens = new Set<string>();

  constructor(public credentials: TemporaryCredentials) {
    super();
  }

  protected handle(req: EmulatorRequest): EmulatorResponse {
    const p = req.url.pathname;
    if (p === '/latest/api/token') {
      if (req.method !== 'PUT') return { status: 405 };
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return { status: 400 };
      const t = `imds-${this.#tokens.size + 1}`;
      this.#tokens.add(t);
      return { status: 200, body: t };
    }
    if (p.startsWith('/latest/meta-data/')) {
      // IMDSv2 only: requests without a session token are refused.
      if (!this.#tokens.has(String(req.headers['x-aws-ec2-metadata-token']))) return { status: 401 };
      if (p === '/latest/meta-data/iam/security-credentials/') return { status: 200, body: `${this.role}\n` };
      if (p === `/latest/meta-data/iam/security-credentials/${this.role}`) return { status: 200, body: { Code: 'Success', Type: 'AWS-HMAC', ...this.credentials, LastUpdated: new Date().toISOString() } };
      return { status: 404 };
    }
    if (p === '/v2/credentials/task') {
      if (this.containerAuthorization !== undefined && req.headers.authorization !== this.containerAuthorization) return { status: 401, body: { message: 'unauthorized' } };
      return { status: 200, body: { ...this.credentials, RoleArn: `arn:aws:iam::123456789012:role/${this.role}` } };
    }
    return { status: 404 };
  }
}
