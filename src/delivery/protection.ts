// systemd-creds' vocabulary for how well a place protects secret bytes at rest:
//   secure   — RAM that is never swapped (tmpfs with noswap, ramfs)
//   weak     — RAM that may be swapped to disk (plain tmpfs)
//   insecure — a persistent filesystem
import { hasOption, type MountEntry } from './mountinfo.js';

export type Protection = 'secure' | 'weak' | 'insecure';

const ORDER: Record<Protection, number> = { secure: 0, weak: 1, insecure: 2 };

export function worst(a: Protection, b: Protection): Protection {
  return ORDER[a] >= ORDER[b] ? a : b;
}

export function classifyMount(e: MountEntry): { protection: Protection; reason: string } {
  if (e.fsType === 'ramfs') return { protection: 'secure', reason: 'ramfs (never swapped; no size limit)' };
  if (e.fsType === 'tmpfs' && hasOption(e, 'noswap')) return { protection: 'secure', reason: 'tmpfs with noswap' };
  if (e.fsType === 'tmpfs') return { protection: 'weak', reason: 'tmpfs without noswap (pages may be swapped to disk)' };
  return { protection: 'insecure', reason: `${e.fsType} is a persistent or unknown filesystem` };
}
