// The failure switches every HTTP emulator offers: an outage (a server error the caller sets up),
// a hang and an oversized answer.
import type { ContractBackend } from './harness.js';

interface Emulator {
  hang: boolean;
  oversize: boolean;
}

export function httpSwitches(emu: Emulator, outage: (on: boolean) => void): Pick<ContractBackend, 'outage' | 'hang' | 'oversize'> {
  return {
    outage: { on: () => outage(true), off: () => outage(false) },
    hang: { on: () => void (emu.hang = true), off: () => void (emu.hang = false) },
    oversize: { on: () => void (emu.oversize = true), off: () => void (emu.oversize = false) },
  };
}
