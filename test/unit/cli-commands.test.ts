/**
 * CLI: the commands as a user runs them (a real process through tsx): help, a role's schema,
 * a config check that starts nothing, and one clear line for a port in use.
 */
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '../..');

function c360(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI: commands', () => {
  it('c360 --help lists the commands and exits 0', () => {
    const r = c360(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('check-config');
    expect(r.stderr).toBe('');
  });

  it("c360 schema --role marketing prints that role's SDL: what marketing may not see is absent", () => {
    const marketing = c360(['schema', '--role', 'marketing']);
    const admin = c360(['schema', '--role', 'admin']);
    expect(marketing.status).toBe(0);
    expect(marketing.stdout).toMatch(/^type Query \{/m);
    expect(admin.stdout).toContain('supportRequesters');
    expect(marketing.stdout).not.toContain('supportRequesters');
  });

  it('c360 schema leaves out the federation fields server.federation serves, as the README says (a router reads _service { sdl })', () => {
    const dir = tempDir('cli');
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    config.server.federation = true;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const r = c360(['schema', '--role', 'admin', '--config', path.join(dir, 'config.json')]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^type Query \{/m);
    expect(r.stdout).not.toMatch(/\b_service\b|\b_entities\b/);
    expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toMatch(/`schema` prints a role's schema without\s+the federation fields \(`_service`, `_entities`\)/);
  });

  it('c360 takes C360_LOG_LEVEL over log.level, and refuses one that is no level with status 2', () => {
    const r = c360(['check-config'], { C360_LOG_LEVEL: 'loud' });
    expect([r.status, r.stderr.trim()]).toEqual([2, 'c360: C360_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"']);
  });

  it('c360 check-config validates without starting; a broken policy is named by file and key, status 2', () => {
    const ok = c360(['check-config']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^config\/demo\.json: ok$/m);
    expect(ok.stdout).toMatch(/^ {2}role admin: /m);

    const dir = tempDir('cli');
    const policy = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/access.json'), 'utf8'));
    const [role] = Object.keys(policy.roles);
    policy.roles[role].grant.Customer = [...policy.roles[role].grant.Customer, 'noSuchField'];
    fs.writeFileSync(path.join(dir, 'access.json'), JSON.stringify(policy));
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    config.access.policyFile = path.join(dir, 'access.json');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const bad = c360(['check-config', '--config', path.join(dir, 'config.json')]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('access.json');
    expect(bad.stderr).toContain('noSuchField');
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it('c360 check-config takes the port from ${PORT} (a container sets it so); one that is no number is status 2 naming the key and the variable', () => {
    const dir = tempDir('cli');
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    config.server.port = '${PORT}';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const ok = c360(['check-config', '--config', path.join(dir, 'config.json')], { PORT: '8080' });
    const bad = c360(['check-config', '--config', path.join(dir, 'config.json')], { PORT: '80a' });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(ok.status).toBe(0);
    expect([bad.status, bad.stderr.trim().split('\n').slice(1)]).toEqual([
      2,
      ['  server.port: expected a number, and the environment variable it is set from holds none (set from $PORT)'],
    ]);
  });

  it("c360 check-config reads each SQL source's tables: one its kind reads and the database lacks is named, status 2; a source that is down is not", () => {
    const dir = tempDir('cli');
    const crmFile = path.join(dir, 'crm.sqlite');
    const made = spawnSync(process.execPath, ['-e', `new (require('better-sqlite3'))(${JSON.stringify(crmFile)}).exec('create table other (x text)')`], { cwd: ROOT });
    expect(made.status).toBe(0);
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    const crm = config.sources.find((s: { kind: string }) => s.kind === 'crm');
    crm.connection = { client: 'sqlite', filename: crmFile };
    fs.writeFileSync(path.join(dir, 'missing.json'), JSON.stringify(config));
    crm.connection = { client: 'mysql', url: 'mysql://c360@127.0.0.1:1/crm' };
    // A sql-table source whose database is down follows the same rule as a crm one.
    config.sources.push({
      name: 'crm_mapped',
      kind: 'sql-table',
      connection: crm.connection,
      profile: { table: 'crm_contacts', key: 'contact_id', updatedAt: 'updated_at', fields: { name: { column: 'name' } } },
      identifiers: [{ kind: 'PHONE', column: 'mobile' }],
    });
    fs.writeFileSync(path.join(dir, 'down.json'), JSON.stringify(config));
    const missing = c360(['check-config', '--config', path.join(dir, 'missing.json')]);
    const down = c360(['check-config', '--config', path.join(dir, 'down.json')]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect([missing.status, missing.stderr.trim().split('\n')]).toEqual([
      2,
      [
        'c360: the configured sources do not match their systems:',
        `  sources[${crm.name}].connection: table crm_contacts does not exist in this database (or this connection may not see it); the crm kind reads crm_contacts, crm_tier_changes`,
        `  sources[${crm.name}].connection: table crm_tier_changes does not exist in this database (or this connection may not see it); the crm kind reads crm_contacts, crm_tier_changes`,
      ],
    ]);
    expect(down.status).toBe(0);
    // Said, not hidden: what was not checked is a warning each.
    // (The demo's other SQL sources read files of a world that may not have been generated: only these two are asserted.)
    const about = (l: string) => l.startsWith(`warning: sources[${crm.name}]`) || l.startsWith('warning: sources[crm_mapped]');
    expect(down.stdout.split('\n').filter((l) => l.includes('not checked') && about(l))).toEqual([
      `warning: sources[${crm.name}]: not checked, its system could not be read (SOURCE_UNAVAILABLE: ${crm.name} describeTables: source unavailable (ECONNREFUSED)); served unchecked (its fields SOURCE_UNAVAILABLE while it is down), checked once its system answers`,
      'warning: sources[crm_mapped]: not checked, its system could not be read (SOURCE_UNAVAILABLE: crm_mapped describeTable: source unavailable (ECONNREFUSED)); served unchecked (its fields SOURCE_UNAVAILABLE while it is down), checked once its system answers',
    ]);
  });

  /** `c360 start` on a copy of the demo config without its demo systems, changed by `edit`: status and stderr lines. */
  function startWith(edit: (config: any) => void) {
    const dir = tempDir('cli');
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    delete config.demo;
    config.server.port = 0; // any free port: what is tested comes before or instead of listening
    edit(config);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const r = c360(['start', '--config', path.join(dir, 'config.json')]);
    fs.rmSync(dir, { recursive: true, force: true });
    return { status: r.status, lines: r.stderr.trim().split('\n') };
  }

  it('c360 start with an unreachable OneID database says so in one line naming oneid.connection, and exits 1', () => {
    const r = startWith((config) => (config.oneid.connection = { client: 'mysql', url: 'mysql://c360@127.0.0.1:1/oneid' }));
    expect(r.status).toBe(1);
    expect(r.lines).toEqual(['c360: ONEID_UNAVAILABLE: the OneID database (oneid.connection) cannot be used: connect ECONNREFUSED 127.0.0.1:1']);
  });

  it('c360 start on a store whose audit table a newer version migrated says so in one line naming oneid.connection, and exits 1', async () => {
    // A rolling upgrade whose new version changed only the audit table: an old replica restarting on the store.
    const file = path.join(tempDir('cli'), 'oneid.sqlite');
    const { openDatabase } = await import('../../src/db');
    const { migrateLatest } = await import('../../src/idmap/migrate');
    const { migrateAccessLatest } = await import('../../src/access/migrations');
    const db = openDatabase({ client: 'sqlite', filename: file });
    await migrateLatest(db);
    await migrateAccessLatest(db);
    await db('c360_access_migrations').insert({ name: '20991231000000_from_a_newer_version', batch: 99, migration_time: new Date() });
    await db.destroy();
    const r = startWith((config) => (config.oneid.connection = { client: 'sqlite', filename: file }));
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([
      'c360: ONEID_UNAVAILABLE: the OneID database (oneid.connection) cannot be used: STORE_NEWER_THAN_GATEWAY: a newer version of c360 migrated this database (c360_access_migrations records 20991231000000_from_a_newer_version, which this version does not know): run that version or a later one',
    ]);
  });

  it('c360 start on a host it cannot listen on says so in one line naming server.host, and exits 1', () => {
    // An address of no interface here (TEST-NET-1, RFC 5737): no name lookup, no network needed.
    const r = startWith((config) => Object.assign(config.server, { host: '192.0.2.1', port: 4999 }));
    expect(r.status).toBe(1);
    expect(r.lines).toEqual(['c360: CANNOT_LISTEN: cannot listen on 192.0.2.1:4999 (server.host, server.port): listen EADDRNOTAVAIL: address not available 192.0.2.1:4999']);
  });

  it('c360 resolve failing on an unexpected database error says what failed without the statement or its values, and exits 1', async () => {
    const dir = tempDir('cli');
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    // Every stand-in on a port free when it binds it (port 0), and its source reading that port.
    const ports: Record<string, number> = Object.fromEntries(Object.keys(config.demo.ports).map((name) => [name, 0]));
    Object.assign(config.demo, { people: 50, dataDir: dir, ports });
    config.oneid.connection.filename = path.join(dir, 'oneid.sqlite');
    for (const s of config.sources) {
      if (s.connection) s.connection.filename = path.join(dir, path.basename(s.connection.filename));
      if (s.baseUrl) s.baseUrl = 'http://127.0.0.1:0';
    }
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    expect(c360(['resolve', '--config', path.join(dir, 'config.json')]).status).toBe(0);
    // Every CRM record changed since, and the store's table no longer as the code expects: its update fails.
    const Database = (await import('better-sqlite3')).default;
    const oneid = new Database(path.join(dir, 'oneid.sqlite'));
    const [{ record_id: recordId, name_key: nameKey }] = oneid
      .prepare(`SELECT record_id, name_key FROM idmap_source_records WHERE source = 'crm' AND name_key IS NOT NULL LIMIT 1`)
      .all() as any[];
    oneid.exec(`UPDATE idmap_source_records SET source_updated_at = '2000-01-01T00:00:00.000Z' WHERE source = 'crm'; DELETE FROM idmap_scan_cursors;`);
    oneid.exec('ALTER TABLE idmap_source_records RENAME COLUMN name_key TO name_key_gone');
    oneid.close();
    const r = c360(['resolve', '--config', path.join(dir, 'config.json')]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(1);
    const [first, ...rest] = r.stderr.trim().split('\n');
    expect(first).toMatch(/^c360: SqliteError( SQLITE_ERROR)?: \[statement\] - no such column: name_key$/);
    expect(rest.every((line) => /^\s+at /.test(line))).toBe(true);
    expect(r.stderr).not.toContain(recordId);
    expect(r.stderr).not.toContain(nameKey);
  });

  it('c360 start and c360 resolve with a source that refuses its scan say so in one line naming the source entry, and exit 1', () => {
    const dir = tempDir('cli');
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    delete config.demo;
    config.server.port = 0;
    config.oneid.connection = { client: 'sqlite', filename: path.join(dir, 'oneid.sqlite') };
    config.identity.resolveOnStart = true;
    // Scanned first (config order): nothing listens on port 1.
    config.sources.find((s: { name: string }) => s.name === 'crm').connection = { client: 'mysql', url: 'mysql://reader@127.0.0.1:1/crm' };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const start = c360(['start', '--config', path.join(dir, 'config.json')]);
    const resolve = c360(['resolve', '--config', path.join(dir, 'config.json')]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect([start.status, start.stderr.trim().split('\n')]).toEqual([
      1,
      [
        'c360: SOURCE_UNAVAILABLE: identity resolution at start-up could not read source crm (sources[crm]): crm scan: source unavailable (ECONNREFUSED); start again once it answers, or set identity.resolveOnStart to false to serve without resolving',
      ],
    ]);
    expect([resolve.status, resolve.stderr.trim().split('\n')]).toEqual([
      1,
      ['c360: SOURCE_UNAVAILABLE: identity resolution could not read source crm (sources[crm]): crm scan: source unavailable (ECONNREFUSED); run it again once it answers'],
    ]);
  });

  it('c360 check-config refuses a source whose baseUrl is not http(s), naming the key, status 2', () => {
    const dir = tempDir('cli');
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    config.sources.find((s: { name: string }) => s.name === 'support').baseUrl = 'ftp://127.0.0.1:4401';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const r = c360(['check-config', '--config', path.join(dir, 'config.json')]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/support.*baseUrl.*an http:\/\/ or https:\/\/ URL/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('c360 start on a port in use says so in one line and exits 1', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const dir = tempDir('cli');
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    config.server.port = port;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', path.join(dir, 'config.json')], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    holder.close();
    fs.rmSync(dir, { recursive: true, force: true });
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `c360: 127.0.0.1:${port} is already in use (another c360 running?): stop it, or choose other ports (server.port; a demo stand-in's in demo.ports and its source's baseUrl, both set by C360_PORT and C360_DEMO_PORT_<SOURCE> under npm start: README, Quick start)`,
    ]);
  });
});
