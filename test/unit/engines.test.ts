/**
 * Every package the lockfile installs accepts the Node versions c360 runs on: Node 20 today
 * (the version running the tests) and Node 22, the next LTS a deployment moves to. npm only warns
 * (EBADENGINE) about a package that refuses the running Node, so a dependency update that pulls a
 * Node-22-only release would otherwise land unnoticed; package.json's `overrides` hold the
 * transitive ones that did (the @whatwg-node helpers under the dev-only Hive Gateway router).
 */
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

const lock = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

/** The oldest Node 22 release every current engines range we depend on must admit. */
const NODE_22 = '22.13.0';

function refusing(nodeVersion: string): string[] {
  const refused: string[] = [];
  for (const [where, pkg] of Object.entries(lock.packages)) {
    const range = pkg.engines && !Array.isArray(pkg.engines) ? pkg.engines.node : undefined;
    if (range && !semver.satisfies(nodeVersion, range)) refused.push(`${where}@${pkg.version} (node ${range})`);
  }
  return refused;
}

describe('locked dependencies', () => {
  it('accept the Node version running the tests', () => {
    expect(refusing(process.versions.node)).toEqual([]);
  });

  it(`accept Node ${NODE_22}`, () => {
    expect(refusing(NODE_22)).toEqual([]);
  });

  it('are checked at all (the lockfile lists packages with engines)', () => {
    const withEngines = Object.values(lock.packages).filter((p) => p.engines && !Array.isArray(p.engines) && p.engines.node);
    expect(withEngines.length).toBeGreaterThan(100);
  });
});
