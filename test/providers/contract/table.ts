// Every built-in provider type, each with its harness. The contract test checks that this table
// covers all of BUILTIN_PROVIDERS, so a new type cannot miss the suite.
import { awsSm, awsSsm } from './aws.js';
import { azureKv, gcpSm } from './gcp-azure.js';
import type { ContractHarness } from './harness.js';
import { local } from './local.js';
import { pass, systemdCreds } from './tools.js';
import { vault } from './vault.js';

export const HARNESSES: readonly ContractHarness[] = [vault, awsSm, awsSsm, gcpSm, azureKv, pass, systemdCreds, local];
