import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';

describe('Temporary directories of a test run', () => {
  it('are made inside the run’s own directory, which the run removes at its end', () => {
    const root = process.env.C360_TEST_TMP;
    expect(root).toBeTruthy();
    const dir = tempDir('spec');
    expect(path.dirname(dir)).toBe(root);
    expect(path.basename(dir)).toMatch(/^c360-spec-/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
