// The plain closing lines CI reads: each file's time and failures, then the counts, written to
// the file in CI_SUMMARY for .ci/run to print last. A reporter of its own, not jest's --json
// file: that one is not written when a failure's error object holds a circular reference
// (seen on a worker crash), and then nothing was printed.
import { writeFileSync } from 'node:fs';
const firstLine = (text) => (text ?? '').split('\n').find((line) => line.trim()) ?? '';
// What a failure said, without its stack: the matcher and its Expected/Received lines, clipped,
// so that a failure seen only in CI can be read from the closing lines alone.
const gist = (text) =>
  (text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('at ') && !/^(>?\s*\d+\s*)?\|/.test(line))
    .slice(1, 9)
    .map((line) => `      ${line.slice(0, 300)}`);

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const lines = [];
    for (const file of results.testResults) {
      const seconds = Math.round((file.perfStats.end - file.perfStats.start) / 1000);
      const failed = file.testResults.filter((t) => t.status === 'failed');
      const broken = file.testExecError !== undefined && file.testExecError !== null;
      lines.push(`${failed.length > 0 || broken ? 'FAIL' : 'pass'} ${seconds}s ${file.testFilePath.replace(`${process.cwd()}/`, '')}`);
      if (failed.length === 0 && broken) lines.push(`  ${firstLine(file.testExecError.message)}`.slice(0, 400));
      for (const t of failed) lines.push(`  ✕ ${t.fullName}: ${firstLine(t.failureMessages[0])}`.slice(0, 400), ...gist(t.failureMessages[0]));
    }
    lines.push(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numRuntimeErrorTestSuites} files did not run`);
    writeFileSync(process.env.CI_SUMMARY, `${lines.join('\n')}\n`);
  }
}

