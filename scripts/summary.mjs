// Prints the test summary; its last line is exactly `N passed, N failed` and the exit code is 0 only
// when nothing failed and something passed.
// Usage: node scripts/summary.mjs <vitest-json> <vitest-exit> <typecheck-exit> <lint-exit>
import { readFileSync } from 'node:fs';

const [jsonPath, vitestExit, typecheckExit, lintExit] = process.argv.slice(2);

/** @returns {{ passed: number, failed: number, note: string }} */
function vitestCounts() {
  let report;
  try {
    report = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    return { passed: 0, failed: 1, note: `no valid vitest JSON at ${jsonPath} (${err.message}); counted as 1 failure` };
  }
  const passed = Number(report.numPassedTests) || 0;
  let failed = Number(report.numFailedTests) || 0;
  const notes = [];
  // A file that fails to load (import error, throw at top level) fails no test; count the file.
  const brokenFiles = (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  );
  if (brokenFiles.length > 0) {
    failed += brokenFiles.length;
    notes.push(`${brokenFiles.length} file(s) failed outside any test: ${brokenFiles.map((file) => file.name).join(', ')}`);
  }
  // Unhandled errors fail the run (success:false, exit 1) while every test passes; count them once.
  if (failed === 0 && (report.success === false || vitestExit !== '0')) {
    failed = 1;
    notes.push(`vitest reported failure (exit ${vitestExit}) without a failed test, e.g. an unhandled error; counted as 1 failure`);
  }
  return { passed, failed, note: notes.join('; ') };
}

const vitest = vitestCounts();
const steps = [
  ['typecheck', typecheckExit === '0'],
  ['lint', lintExit === '0'],
];
const passed = vitest.passed + steps.filter(([, ok]) => ok).length;
const failed = vitest.failed + steps.filter(([, ok]) => !ok).length;

console.log('');
for (const [name, ok] of steps) console.log(`${name}: ${ok ? 'passed' : 'FAILED'}`);
console.log(`vitest: ${vitest.passed} passed, ${vitest.failed} failed${vitest.note ? ` (${vitest.note})` : ''}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
