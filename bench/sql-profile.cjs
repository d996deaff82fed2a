/**
 * Per-statement SQLite timer for profiling a benchmark (not used by c360 itself):
 *
 *   node --require ./bench/sql-profile.cjs --import tsx bench/resolve.ts --people 100000
 *
 * Wraps better-sqlite3's prepared statements, sums time and calls per statement shape (IN lists
 * and VALUES rows folded, COMMIT split into the stage and link phases), and prints the 30 most
 * expensive to stderr when the process exits. Statements run synchronously, so wall time around
 * each call is the statement's own.
 */
const path = require('node:path');
const Database = require(path.resolve(__dirname, '../node_modules/better-sqlite3'));

const stats = new Map();
let phase = 'stage';
const shape = (sql) =>
  sql
    .replace(/\?(\s*,\s*\?)+/g, '?…')
    .replace(/\(\?…\)(\s*,\s*\(\?…\))+/g, '(?…)…')
    .replace(/\s+/g, ' ')
    .slice(0, 200);

const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (sql, ...rest) {
  const statement = prepare.call(this, sql, ...rest);
  if (/pending = 1/.test(sql)) phase = 'link'; // the link phase starts by reading pending records
  const file = path.basename(this.name || '');
  const key = () => `${file} | ${/^COMMIT/i.test(sql) ? `COMMIT (${phase})` : shape(sql)}`;
  for (const method of ['all', 'run', 'get', 'iterate']) {
    const original = statement[method];
    if (typeof original !== 'function') continue;
    statement[method] = function (...args) {
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const k = key();
        const s = stats.get(k) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += Number(process.hrtime.bigint() - started) / 1e6;
        stats.set(k, s);
      }
    };
  }
  return statement;
};

process.on('exit', () => {
  const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, s]) => sum + s.ms, 0);
  process.stderr.write(`SQLite statements: ${(total / 1000).toFixed(1)} s in all\n`);
  for (const [k, s] of rows.slice(0, 30)) process.stderr.write(`${(s.ms / 1000).toFixed(1).padStart(8)} s ${String(s.calls).padStart(8)}×  ${k}\n`);
});
