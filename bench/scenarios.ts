// Every benchmark scenario, in the order `npm run bench` runs them.
import type { Scenario } from './lib.js';
import { resolveApi, resolveInProcess } from './broker.js';
import { memory } from './memory.js';
import { mountSetRotate, mountSetWrite } from './delivery.js';
import { csiMount } from './csi.js';
import { dockerRun } from './docker.js';
import { podmanRun } from './podman.js';
import { pluginOneshot, pluginServe } from './plugins.js';
import { templateRender } from './templates.js';
import { rootlessPodmanVolume } from './rootless.js';
import { cliGet, cliVersion } from './cli.js';

export const scenarios: readonly Scenario[] = [cliVersion, cliGet, resolveInProcess, resolveApi, templateRender, mountSetWrite, mountSetRotate, memory, csiMount, pluginServe, pluginOneshot, podmanRun, dockerRun, rootlessPodmanVolume];
