// Crash torture (scripts/torture.ts): a child process runs the venue under load and is SIGKILLed at random
// moments; after every kill the parent checks that every acknowledged command survived, that the recovered
// state equals a replay of the journal from scratch, and that the invariants hold.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function torture(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/torture.ts'), ...args], { cwd: root });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('torture', () => {
  it('5 kills: nothing acknowledged is lost, recovery equals replay, invariants hold', { timeout: 180_000 }, async () => {
    const r = await torture(['--cycles', '5', '--seed', '42', '--json']);
    const last = r.out.trim().split('\n').at(-1)!;
    const res = JSON.parse(last) as Record<string, unknown>;
    expect(res, r.err).toMatchObject({ cycles: 5, lost: 0, hashMismatches: 0, invariantViolations: 0, historyMismatches: 0, childErrors: 0 });
    expect(res.acked as number).toBeGreaterThan(100);
    expect(r.code).toBe(0);
  });

  it('3 kills with the fsync in the background: nothing acknowledged is lost either', { timeout: 180_000 }, async () => {
    const r = await torture(['--cycles', '3', '--seed', '7', '--fsync', 'background', '--json']);
    const res = JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(res, r.err).toMatchObject({ cycles: 3, lost: 0, hashMismatches: 0, invariantViolations: 0, historyMismatches: 0, childErrors: 0 });
    expect(res.acked as number).toBeGreaterThan(100);
    expect(r.code).toBe(0);
  });
});
