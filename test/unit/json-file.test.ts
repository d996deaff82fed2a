/** The files a person writes (config, policy, rules) are read the way an editor may have saved them. */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, ConfigError } from '../../src/config';
import { loadIdentityRules } from '../../src/idmap/rules';
import { readJsonFile } from '../../src/json-file';
import { tempDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
beforeAll(() => (dir = tempDir('json-file')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A copy of a project file saved with a UTF-8 byte-order mark, as Notepad and some Windows editors do. */
function withBom(relative: string): string {
  const file = path.join(dir, path.basename(relative));
  fs.writeFileSync(file, '\uFEFF' + fs.readFileSync(path.join(ROOT, relative), 'utf8'));
  return file;
}

describe('JSON files a person wrote', () => {
  it('reads a config saved with a byte-order mark as the same config', () => {
    expect(loadConfig(withBom('config/demo.json'), {})).toEqual(loadConfig(path.join(ROOT, 'config/demo.json'), {}));
  });

  it('reads identity rules saved with a byte-order mark', () => {
    // The same rules but where they came from (and the weights file beside them).
    const { origin: _o, probabilistic: p1, ...bom } = loadIdentityRules(withBom('config/identity-rules.json')) as any;
    const { origin: _p, probabilistic: p2, ...plain } = loadIdentityRules(path.join(ROOT, 'config/identity-rules.json')) as any;
    expect(JSON.stringify(bom)).toEqual(JSON.stringify(plain));
    expect(JSON.stringify({ ...p1, weightsFile: null })).toEqual(JSON.stringify({ ...p2, weightsFile: null }));
    expect(bom.strong.length).toBeGreaterThan(0);
  });

  it('names the file, and says whether it could not be read or is not JSON, in the loader’s own error', () => {
    const missing = path.join(dir, 'missing.json');
    expect(() => loadConfig(missing, {})).toThrow(new ConfigError(`${missing}: cannot read config (ENOENT)`));
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{ "server": ');
    expect(() => readJsonFile(broken, 'config', (m) => new ConfigError(m))).toThrow(ConfigError);
    expect(() => loadConfig(broken, {})).toThrow(/broken\.json: not valid JSON \(/);
  });

  it('never quotes the file in its reason (a secret may sit beside the mistake): it names the line', () => {
    const file = path.join(dir, 'secret.json');
    fs.writeFileSync(file, '{\n  "server": { "port": 4220 },\n  "sources": [{ "name": "scrm", "kind": "wechat", "appSecret": S3cretValueHere }]\n}\n');
    const message = (() => {
      try {
        loadConfig(file, {});
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    })();
    expect(message).toBe(`${file}: not valid JSON (Unexpected token at line 3)`);
    fs.writeFileSync(file, '{\n  "a": "x"\n  "b": 2 }');
    expect(() => loadConfig(file, {})).toThrow(/not valid JSON \(.* \(line 3\)\)$/);
  });
});
