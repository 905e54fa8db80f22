// The server as a package: the esbuild bundle (build/server.ts) laid out as it is installed (package.json,
// dist/main.js, node_modules beside it), started with plain `node` the way the README documents. Checks the
// bundle's imports against server/package.json, --help and bad flags, and a whole life: listen on port 0,
// setup token on stderr, /health, the web build, first admin, SIGTERM exits 0, a restart has no token.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleServer, ROOT, SERVER_NODE_FLAGS, type ServerBundle } from '../../build/server.js';
import { PASSWORD } from './helpers.js';

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout JSON line whose msg is `msg`. */
  logLine(msg: string, ms?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dir: string;
let bundle: ServerBundle;
const running = new Set<ChildProcess>();

/** The environment without TRADEDESK_* settings of the machine running the tests. */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRADEDESK_') && k !== 'NODE_OPTIONS'));

/**
 * Starts the bundle as the README does: `node <SERVER_NODE_FLAGS> dist/main.js`, or with `asBin` the file
 * itself, as `npx tradedesk-server` and an installed bin run it (its first line names node and the flags).
 */
function run(args: string[], o: { asBin?: boolean } = {}): Run {
  const [cmd, argv] = o.asBin === true ? [bundle.outfile, args] : [process.execPath, [...SERVER_NODE_FLAGS, bundle.outfile, ...args]];
  const child = spawn(cmd, argv, { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
      for (const w of [...waiters]) w();
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    logLine(msg, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "${msg}" log line within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`)), ms);
        const check = (): void => {
          for (const line of out.split('\n')) {
            if (!line.startsWith('{')) continue;
            const rec = JSON.parse(line) as Record<string, unknown>;
            if (rec.msg === msg) {
              clearTimeout(t);
              waiters.splice(waiters.indexOf(check), 1);
              return resolve(rec);
            }
          }
          if (child.exitCode !== null) {
            clearTimeout(t);
            waiters.splice(waiters.indexOf(check), 1);
            reject(new Error(`exited (${child.exitCode}) before "${msg}"; stderr:\n${err}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

beforeAll(async () => {
  // Installed layout: <dir>/package.json, <dir>/dist/main.js, <dir>/node_modules (the repository's).
  dir = mkdtempSync(join(tmpdir(), 'tdpkg-'));
  copyFileSync(join(ROOT, 'server', 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  bundle = await bundleServer(join(dir, 'dist', 'main.js'), { sourcemap: false, quiet: true });
});
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('server/package.json', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'server', 'package.json'), 'utf8'));
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('declares exactly the packages the bundle imports, with the root versions', () => {
    expect(bundle.packages).toEqual(Object.keys(pkg.dependencies).sort());
    for (const [name, range] of Object.entries(pkg.dependencies)) expect(range, name).toBe(root.dependencies[name]);
    expect(pkg).toMatchObject({ name: '@tradedesk/server', version: root.version, type: 'module', bin: { 'tradedesk-server': 'dist/main.js' }, files: ['dist'] });
    expect(pkg.engines.node).toBe(root.engines.node);
  });

  it('the bundle is an executable node script that names the production flags, as do the npm scripts', () => {
    expect(SERVER_NODE_FLAGS).toContain('--max-semi-space-size=32');
    expect(readFileSync(bundle.outfile, 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
    expect(statSync(bundle.outfile).mode & 0o111).toBe(0o111);
    const flags = SERVER_NODE_FLAGS.join(' ');
    expect(pkg.scripts.start).toBe(`node ${flags} dist/main.js`);
    expect(root.scripts.server).toBe(`npm run build:server --silent && node ${flags} server/dist/main.js`);
  });
});

describe('the bundled server', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = run(['--help']);
    expect(await within(r.exited, 10_000, '--help')).toEqual({ code: 0, signal: null });
    expect(r.stdout()).toContain('tradedesk-server [flags]');
    expect(r.stdout()).toContain('--db FILE');
  });

  it('an unknown flag or a bad value exits 2 with a clear message', async () => {
    const a = run(['--no-such-flag', '1']);
    expect((await within(a.exited, 10_000, 'bad flag')).code).toBe(2);
    expect(a.stderr()).toMatch(/^Unknown flag --no-such-flag \(see --help\)/);
    const b = run(['--port', 'eighty']);
    expect((await within(b.exited, 10_000, 'bad value')).code).toBe(2);
    expect(b.stderr()).toMatch(/^--port must be an integer, not "eighty"/);
    expect(a.stdout() + b.stdout()).toBe(''); // nothing started, nothing logged
  });

  it('listens on port 0, prints the setup token, serves, stops on SIGTERM with 0; a restart has no token', async () => {
    const db = join(dir, 'data', 'v.db');
    mkdirSync(join(dir, 'data'));
    const web = join(dir, 'web');
    mkdirSync(web);
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>bundled web build</title>');
    const args = ['--port', '0', '--host', '127.0.0.1', '--db', db, '--sim', 'off', '--renderer-dir', web];

    // the first start runs the file as a bin: its first line gives node the production flags
    const first = run(args, { asBin: true });
    const listening = await first.logLine('listening');
    expect(listening).toMatchObject({ node: expect.stringMatching(/^v\d+\./), nodeFlags: [...SERVER_NODE_FLAGS] });
    const url = String(listening.url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', setupPending: true });
    // the token is written to stderr right after the listening line
    for (let i = 0; i < 100 && !/tds_\S+\s/.test(first.stderr()); i++) await new Promise((r) => setTimeout(r, 20));
    const token = /^\s+(tds_\S+)$/m.exec(first.stderr())?.[1];
    expect(token, first.stderr()).toBeDefined();
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('bundled web build');

    const setup = await fetch(`${url}/api/v1/auth/setup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ setupToken: token, username: 'admin', password: PASSWORD }),
    });
    expect(setup.status).toBe(201);
    expect(((await setup.json()) as { user: { role: string } }).user.role).toBe('admin');
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ setupPending: false });

    first.child.kill('SIGTERM');
    expect(await within(first.exited, 8_000, 'exit after SIGTERM')).toEqual({ code: 0, signal: null });
    await first.logLine('stopped');
    // the users database and the key file sit beside the venue database
    expect(existsSync(join(dir, 'data', 'v.users.db'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'v.server.key'))).toBe(true);

    const second = run(args);
    const url2 = String((await second.logLine('listening')).url);
    expect(await (await fetch(`${url2}/health`)).json()).toMatchObject({ status: 'ok', setupPending: false });
    const login = await fetch(`${url2}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    // a history query is answered by the bundle's reader thread (it runs the queries' source)
    const { accessToken } = (await login.json()) as { accessToken: string };
    const auth = { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' };
    const listed = await fetch(`${url2}/api/v1/rpc/admin.instrument.create`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ symbol: 'PKG', name: 'Package', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 2000 }),
    });
    expect(listed.status).toBe(200);
    const trades = await fetch(`${url2}/api/v1/rpc/trades.recent?symbol=PKG&limit=5`, { headers: auth });
    expect(trades.status).toBe(200);
    expect(await trades.json()).toEqual([]);
    // ...by the thread, not by the sequencer after losing it (which the venue reports)
    await new Promise((r) => setTimeout(r, 100));
    expect(second.stdout()).not.toMatch(/history reader thread/);
    // The log reader goes away: the next log lines hit a closed pipe (EPIPE); the exchange keeps serving.
    second.child.stdout!.destroy();
    for (let i = 0; i < 5; i++) {
      const bad = await fetch(`${url2}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'wrong password' }) });
      expect(bad.status).toBe(401);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await fetch(`${url2}/health`)).status).toBe(200);
    expect(second.child.exitCode).toBeNull();
    second.child.kill('SIGTERM');
    expect(await within(second.exited, 8_000, 'second exit after SIGTERM')).toEqual({ code: 0, signal: null });
    expect(second.stderr()).not.toMatch(/tds_|No admin exists/);
  });
});
