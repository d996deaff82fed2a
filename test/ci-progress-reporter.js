/**
 * A jest reporter for .ci/run: appends `start <file>` and `done <file>` lines to the file named by
 * C360_CI_PROGRESS as test files begin and end, so that a run stopped by its time bound can say
 * which file was running. Written as it happens (appendFileSync): the run may be killed at any moment.
 */
const fs = require('node:fs');

class CiProgressReporter {
  constructor() {
    this.file = process.env.C360_CI_PROGRESS;
  }

  write(line) {
    if (this.file) fs.appendFileSync(this.file, `${new Date().toISOString()} ${line}\n`);
  }

  onTestFileStart(test) {
    this.write(`start ${test.path}`);
  }

  onTestFileResult(test, result) {
    this.write(`done ${test.path} ${result.numFailingTests} failed${result.testExecError ? ' (could not run)' : ''}`);
  }
}

module.exports = CiProgressReporter;
