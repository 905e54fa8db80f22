/**
 * Electronegativity (@doyensec/electronegativity) over main/ and preload/: no HIGH or MEDIUM finding.
 *
 * The tool reads literal options only. Our BrowserWindow gets its webPreferences from the one factory and
 * the CSP is built by strictCsp(), so the scan also gets two probe files GENERATED FROM THE REAL CODE: a
 * BrowserWindow with exactly what webPreferences() returns, and the CSP header exactly as strictCsp()
 * builds it. The window call site disables the literal-only checks inline (eng-disable), and the probe is
 * where the tool checks them; a deliberately insecure probe proves those checks really run.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { strictCsp } from '../src/security/csp.js';
import { webPreferences } from '../src/security/web-preferences.js';
import { tempDir } from './helpers.js';

interface Issue {
  id: string;
  file: string;
  location: { line: number };
  severity: { name: string };
  manualReview: boolean;
  description: string;
}
type Run = (
  options: Record<string, unknown>,
  forCli: boolean,
) => Promise<{ issues: Issue[]; errors: { file: string; message: string; tolerable: boolean }[]; atomicChecks: number; globalChecks: number }>;

async function electronegativity(input: string): Promise<{ issues: Issue[]; errors: { message: string; tolerable: boolean }[]; checks: number }> {
  // CommonJS without type declarations
  const mod = createRequire(import.meta.url)('@doyensec/electronegativity') as Run | { default: Run };
  const run = typeof mod === 'function' ? mod : mod.default;
  const electron = (JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8')) as { version: string }).version;
  const log = console.log;
  console.log = () => undefined; // it prints a note when it cannot fetch translations offline
  try {
    const r = await run(
      {
        input,
        isSarif: false,
        customScan: [],
        // needs the network (Electron's release feed); the version is pinned by package.json anyway
        excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
        isRelative: true,
        electronVersionOverride: electron,
      },
      false,
    );
    return { issues: r.issues, errors: r.errors, checks: r.atomicChecks + r.globalChecks };
  } finally {
    console.log = log;
  }
}

const serious = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity.name === 'HIGH' || i.severity.name === 'MEDIUM');
const describeIssue = (i: Issue): string => `${i.id} ${i.severity.name} ${i.file}:${i.location.line}${i.manualReview ? ' (review)' : ''}`;

function probes(dir: string, prefs: object, csp: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'window.js'),
    `const { BrowserWindow } = require('electron');\nconst win = new BrowserWindow({ width: 800, height: 600, webPreferences: ${JSON.stringify(prefs)} });\nmodule.exports = win;\n`,
  );
  writeFileSync(
    join(dir, 'csp.js'),
    `const { session } = require('electron');\nsession.defaultSession.webRequest.onHeadersReceived((details, callback) => {\n  callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [${JSON.stringify(csp)}] } });\n});\n`,
  );
}

describe('Electronegativity', () => {
  const tmp = tempDir('tdeneg-');
  afterAll(() => tmp.remove());

  it('finds nothing HIGH or MEDIUM in main/ and preload/ (with the factory and CSP probes)', async () => {
    const scan = join(tmp.dir, 'scan');
    for (const part of ['main/src', 'main/electron', 'preload']) cpSync(part, join(scan, part), { recursive: true });
    // The preload is a deliberate, reviewed bridge (PRELOAD_JS_CHECK asks for that review): it exposes
    // only connect/platform/version, which security.test.ts and the bridge type pin down.
    probes(join(scan, 'probe'), webPreferences({ preload: '/app/dist/preload/preload.cjs', version: '1.0.0' }), strictCsp());
    const r = await electronegativity(scan);
    expect(r.checks).toBeGreaterThan(30);
    expect(r.errors.filter((e) => !e.tolerable)).toEqual([]);
    const found = serious(r.issues).filter((i) => !(i.id === 'PRELOAD_JS_CHECK' && i.file.startsWith('probe/')));
    expect(found.map(describeIssue)).toEqual([]);
    // the CSP was found (no "no CSP" finding) and not judged weak; what remains is at most the
    // evaluator's generic "maybe weak" review note for script-src 'self'
    const csp = r.issues.filter((i) => i.id.startsWith('CSP'));
    expect(csp.every((i) => i.severity.name === 'LOW' && i.manualReview)).toBe(true);
    // the scan saw the real security wiring: navigation limits and the permission handler
    expect(r.issues.map((i) => i.id)).not.toContain('LIMIT_NAVIGATION_GLOBAL_CHECK');
    expect(r.issues.map((i) => i.id)).not.toContain('PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK');
  }, 60_000);

  it('the probe is meaningful: insecure webPreferences and a weak CSP are reported', async () => {
    const scan = join(tmp.dir, 'negative');
    const insecure = { ...webPreferences({ preload: '/x.cjs' }), contextIsolation: false, sandbox: false, nodeIntegration: true, webSecurity: false };
    probes(scan, insecure, "default-src *; script-src 'self' 'unsafe-inline' 'unsafe-eval'");
    const r = await electronegativity(scan);
    const ids = new Set(serious(r.issues).map((i) => i.id));
    for (const id of ['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'WEB_SECURITY_JS_CHECK']) expect(ids).toContain(id);
    expect(r.issues.some((i) => i.id === 'CSP_GLOBAL_CHECK')).toBe(true);
  }, 60_000);
});
