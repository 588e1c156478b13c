// The keyway-only walkthroughs of README.md, docs/templates.md and the plugin quick start run as
// written: their shell blocks are extracted from the files and run by bash against a private
// instance (`keyway` on PATH is the built CLI). System paths a walkthrough installs into
// (/usr/libexec/keyway, /srv/secrets) are moved under the test's own directory, and a tool the
// host may lack (nginx) is a stand-in that checks what it is handed. An edit that breaks a
// documented command fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unmountRoot } from '../../src/delivery/mount-root.js';
import { CLI, makeInstance, REPO, type Instance } from '../helpers/cli.js';

interface Block {
  readonly lang: string;
  readonly line: number;
  readonly text: string;
}

/** Fenced code blocks of a Markdown file, with their info string and first line number. */
function blocks(file: string): Block[] {
  const out: Block[] = [];
  const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i + 1;
    while (i + 1 < lines.length && !(lines[i + 1] ?? '').startsWith('```')) i++;
    out.push({ lang: open[1] ?? '', line: start + 1, text: lines.slice(start, i + 1).join('\n') + '\n' });
    i++;
  }
  return out;
}

/** The one block of `file` whose text contains `marker`. */
function blockWith(file: string, marker: string, lang?: string): Block {
  const found = blocks(file).filter((b) => b.text.includes(marker) && (lang === undefined || b.lang === lang));
  assert.equal(found.length, 1, `${file}: expected one ${lang ?? ''} block containing ${JSON.stringify(marker)}, found ${found.length}`);
  return found[0] as Block;
}

interface Shell {
  readonly inst: Instance;
  readonly dir: string;
  run(script: string, where: string, cwd?: string): string;
}

function shell(t: { after(fn: () => Promise<void> | void): void }): Shell {
  const inst = makeInstance('keyway-docs-');
  t.after(async () => {
    await unmountRoot(inst.runtimeDir).catch(() => undefined);
    inst.cleanup();
  });
  const bin = join(inst.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'keyway'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
  chmodSync(join(bin, 'keyway'), 0o755);
  const env = { ...inst.env, PATH: `${bin}:${inst.env.PATH ?? '/usr/bin:/bin'}` };
  return {
    inst,
    dir: inst.dir,
    run(script, where, cwd = inst.dir) {
      const r = spawnSync('bash', ['-eu', '-o', 'pipefail', '-c', script], { cwd, env, encoding: 'utf8' });
      assert.equal(r.status, 0, `${where} failed (exit ${String(r.status)}):\n${script}\nstderr: ${r.stderr}`);
      return r.stdout;
    },
  };
}

test('README quick start runs as written and prints the documented values', (t) => {
  const sh = shell(t);
  const b = blockWith('README.md', 'node dist/cli.js get db', 'sh');
  const out = sh.run(b.text, `README.md:${b.line}`, REPO);
  assert.match(out, /^[0-9a-f]{25}\n/, 'secret create prints the new 25-hex id');
  assert.match(out, /\ns3cret/, 'get db prints the exact bytes');
  assert.match(out, /\bapi\b/);
  assert.match(out, /\bdb\b/);
  assert.equal(sh.inst.run(['get', 'api']).stdout.toString(), 's3cret', 'the reference resolves');
});

test('docs/templates.md: the DATABASE_URL template renders as documented, through render, check and run', (t) => {
  const sh = shell(t);
  const tmpl = blockWith('docs/templates.md', '# db.env.tmpl');
  writeFileSync(join(sh.dir, 'db.env.tmpl'), tmpl.text);
  // The password the doc uses as its example.
  sh.run(`printf 'app' | keyway secret create db_user - >/dev/null\nprintf 'p@ss/w rd\\n' | keyway secret create db_password - >/dev/null`, 'setup');
  const intro = blockWith('docs/templates.md', 'keyway template render app.conf.tmpl', 'sh');
  const lines = intro.text.split('\n').filter((l) => l.startsWith('keyway template ') || l.startsWith('keyway run '));
  assert.equal(lines.length, 3, 'render, check and run are documented');
  // `myapp` stands for any program: here one that prints the file it was given.
  const script = lines.map((l) => l.replaceAll('app.conf.tmpl', 'db.env.tmpl').replace('-- myapp', `-- sh -c 'cat "$CREDENTIALS_DIRECTORY/db.env"'`)).join('\n');
  const out = sh.run(script, `docs/templates.md:${intro.line}`);
  const url = 'DATABASE_URL=postgres://app:p%40ss%2Fw%20rd@db.internal:5432/shop?sslmode=verify-full';
  assert.equal(out.split(url).length - 1, 2, `render and run both print ${url}:\n${out}`);
  assert.match(out, /^db_user\ndb_password$/m, 'check lists the names in order of first use');
  assert.match(readFileSync(join(REPO, 'docs/templates.md'), 'utf8'), /becomes `p%40ss%2Fw%20rd`/, 'the doc states the encoding the test checks');
});

test('docs/templates.md: the nginx TLS walkthrough delivers the certificate, key, config and htpasswd to the command', (t) => {
  const sh = shell(t);
  for (const marker of ['# nginx.conf.tmpl', '# htpasswd.tmpl']) {
    const b = blockWith('docs/templates.md', marker);
    writeFileSync(join(sh.dir, marker.slice(2)), b.text);
  }
  sh.run(
    [
      'openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=shop.example.com -keyout key.pem -out cert.pem -days 1 2>/dev/null',
      'keyway secret create tls-cert cert.pem >/dev/null',
      'keyway secret create tls-key key.pem >/dev/null',
      `printf '$apr1$salt$hash\\n' | keyway secret create admin_htpasswd_hash - >/dev/null`,
    ].join('\n'),
    'setup',
  );
  // A stand-in nginx: checks the prefix holds what the config names, and prints the auth file.
  const bin = join(sh.dir, 'bin');
  writeFileSync(join(bin, 'nginx'), '#!/bin/sh\nset -eu\ncd "$2"\ngrep -q "ssl_certificate     site.crt" "$4"\nopenssl x509 -noout -in site.crt\nopenssl pkey -noout -in site.key\ncat htpasswd\n');
  chmodSync(join(bin, 'nginx'), 0o755);
  const b = blockWith('docs/templates.md', '--template nginx.conf.tmpl', 'sh');
  const out = sh.run(b.text, `docs/templates.md:${b.line}`);
  // The block's first line labels the file and is a comment in htpasswd syntax; the hash is trimmed.
  assert.equal(out, '# htpasswd.tmpl\nadmin:$apr1$salt$hash\n');
});

test('examples/plugins: the files-oneshot quick start registers the plugin and reads a secret through it', (t) => {
  const sh = shell(t);
  const b = blockWith('examples/plugins/README.md', 'install -m 0755 files-oneshot/keyway-files', 'sh');
  const libexec = join(sh.dir, 'usr-libexec-keyway');
  const srv = join(sh.dir, 'srv-secrets');
  const script = b.text.replaceAll('/usr/libexec/keyway', libexec).replaceAll('/srv/secrets', srv);
  // The value the walkthrough reads; readable by the plugin's unprivileged user.
  const setup = `mkdir -p ${srv}/db && printf 'hunter2' > ${srv}/db/password && chmod -R a+rX ${srv} && chmod 0755 ${sh.dir}`;
  const out = sh.run(`${setup}\n${script}`, `examples/plugins/README.md:${b.line}`, join(REPO, 'examples', 'plugins'));
  assert.ok(out.endsWith('hunter2'), `keyway get printed the file's bytes:\n${out}`);
});

test('every keyway config example in the docs loads (containers.conf examples aside; pins filled in)', (t) => {
  const sh = shell(t);
  let n = 0;
  const docs = readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const providers = readdirSync(join(REPO, 'docs', 'providers')).filter((f) => f.endsWith('.md')).map((f) => `docs/providers/${f}`);
  for (const file of ['README.md', ...docs, ...providers]) {
    for (const b of blocks(file).filter((x) => x.lang === 'toml')) {
      // Podman's containers.conf, shown next to keyway's own config: not keyway's to load.
      if (/^\[(engine|secrets)[.\]]/m.test(b.text)) continue;
      const config = join(sh.dir, `example-${n++}.toml`);
      writeFileSync(config, b.text.replaceAll('<64 hex>', 'a'.repeat(64)));
      sh.run(`keyway --config ${config} secret ls --quiet >/dev/null`, `${file}:${b.line}`);
    }
  }
  assert.ok(n >= 3, `found ${n} config examples`);
});
