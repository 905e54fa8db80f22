#!/usr/bin/env node
// Prints the one-line test summary CI looks for, from the JSON report vitest writes (vitest.config.ts):
//   vitest: N passed, M failed[, K skipped]
// A test file that failed outside any test (import error, failing hook) counts as one failure, and so does
// a run that vitest itself marked unsuccessful (e.g. unhandled errors). Exits 1 when the report is missing
// or unreadable or anything failed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const reportPath = fileURLToPath(new URL('../.vitest/report.json', import.meta.url));

/** @type {any} */
let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (err) {
  console.error(`test-summary: cannot read ${reportPath}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

/** @type {any[]} */
const files = Array.isArray(report.testResults) ? report.testResults : [];
const passed = Number(report.numPassedTests) || 0;
const skipped = (Number(report.numPendingTests) || 0) + (Number(report.numTodoTests) || 0);
let failed = Number(report.numFailedTests) || 0;
for (const file of files) {
  /** @type {any[]} */
  const assertions = Array.isArray(file.assertionResults) ? file.assertionResults : [];
  if (file.status === 'failed' && !assertions.some((a) => a.status === 'failed')) {
    console.error(`test-summary: ${file.name} failed outside its tests: ${String(file.message ?? '').split('\n')[0]}`);
    failed += 1;
  }
}
if (report.success === false && failed === 0) {
  console.error('test-summary: vitest reported the run as failed (unhandled errors?)');
  failed = 1;
}

console.log(`vitest: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
