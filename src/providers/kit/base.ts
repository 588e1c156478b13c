// What every built-in provider has: its type, instance name, accepted query keys and the prefix of
// its messages (`aws-sm: ...`, or `aws-sm provider "prod": ...` for a named instance).
import { providerLabel } from '../../core/provider.js';

export abstract class BaseProvider {
  readonly type: string;
  readonly name: string;
  readonly optionKeys: readonly string[];
  /** Prefix of every message of this instance. */
  protected readonly where: string;

  protected constructor(type: string, name: string, optionKeys: readonly string[]) {
    this.type = type;
    this.name = name;
    this.optionKeys = optionKeys;
    this.where = providerLabel(type, name);
  }
}
