// Text keyway did not write reaches the operator's terminal through four places; a hostile source
// (backend, plugin, helper tool, anything logged as a message) must not break out of its line or
// drive the terminal through any of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportError } from '../../src/cli/exit.js';
import { KeywayError } from '../../src/core/errors.js';
import { formatRecord } from '../../src/core/log-text.js';
import { oneLine } from '../../src/core/one-line.js';
import { responseError } from '../../src/plugins/protocol.js';
import { ToolProvider, type ToolSettings } from '../../src/providers/kit/tool.js';

const HOSTILE = 'denied\n{"level":50,"msg":"forged"}\r\n\u001b[2J\u001b]0;title\u0007 end\u009b';
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A tool provider whose tool writes `stderr` and fails. */
class FailingTool extends ToolProvider<ToolSettings> {
  constructor() {
    super('tool', 'tool', [], { binary: '/bin/sh', path: '/usr/bin:/bin', timeoutMs: 10_000 });
  }

  async fail(stderr: string): Promise<KeywayError> {
    return this.exitFailure(await this.run(['-c', 'printf "%s" "$H" >&2; exit 1'], { H: stderr }, AbortSignal.timeout(10_000), 1024), 'lookup x');
  }
}

test('oneLine folds white space to one space and drops every other control character', () => {
  assert.equal(oneLine(HOSTILE), 'denied {"level":50,"msg":"forged"} [2J]0;title end');
});

test('a plugin\'s error message, a tool\'s stderr, a CLI error line and a text log message stay one line without control characters', async () => {
  const plugin = responseError('p', { v: 1, id: '1', ok: false, error: { code: 'internal', message: HOSTILE } }).message;
  const tool = (await new FailingTool().fail(`first line\nlast ${HOSTILE.replaceAll('\n', ' ')}`)).message;
  let printed = '';
  reportError(new KeywayError('unavailable', HOSTILE), (s) => (printed += s));
  const logged = formatRecord(JSON.stringify({ level: 50, time: 0, msg: HOSTILE }));
  for (const [where, text] of [['plugin', plugin], ['tool', tool], ['cli', printed.replace(/\n$/, '')], ['log', logged.replace(/\n$/, '')]] as const) {
    assert.doesNotMatch(text, CONTROL, where);
    assert.match(text, /\[2J\]0;title end/, where);
  }
});
