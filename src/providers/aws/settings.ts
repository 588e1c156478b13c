// Where an AWS client talks to and as whom: region, endpoint and profile from config first, then
// the standard AWS environment variables and ~/.aws/config, as the AWS SDKs and CLI resolve them.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../core/errors.js';
import { parseIni, profileSection, type IniFile } from './ini.js';

export type Env = Readonly<Record<string, string | undefined>>;

export function awsProfile(configured: string | undefined, env: Env): string {
  return configured ?? env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE ?? 'default';
}

function home(env: Env): string {
  return env.HOME ?? homedir();
}

export function credentialsFilePath(env: Env): string {
  return env.AWS_SHARED_CREDENTIALS_FILE ?? join(home(env), '.aws', 'credentials');
}

export function configFilePath(env: Env): string {
  return env.AWS_CONFIG_FILE ?? join(home(env), '.aws', 'config');
}

/** Reads an INI file; a missing file is an empty one, other failures are errors naming the path. */
export function readIni(path: string): IniFile {
  try {
    return parseIni(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new KeywayError('permission_denied', `aws: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
}

export function resolveRegion(configured: string | undefined, profile: string, env: Env, what: string): string {
  const region = configured ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? profileSection(readIni(configFilePath(env)), profile, 'config')?.get('region');
  if (!region) throw new KeywayError('failed_precondition', `${what}: no AWS region (set region in the provider config, ?region= in the reference, or AWS_REGION)`);
  if (!/^[a-z0-9-]{1,32}$/.test(region)) throw new KeywayError('invalid_argument', `${what}: region ${JSON.stringify(region.slice(0, 40))} is not a valid AWS region name`);
  return region;
}

/**
 * The endpoint: explicit config, then AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL (the SDKs'
 * service-specific endpoint variables), then the public regional endpoint.
 */
export function resolveEndpoint(configured: string | undefined, envKey: string, hostPrefix: string, region: string, env: Env): string {
  const url = configured ?? env[`AWS_ENDPOINT_URL_${envKey}`] ?? env.AWS_ENDPOINT_URL;
  if (url) return url.replace(/\/+$/, '');
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${hostPrefix}.${region}.${suffix}`;
}
