/**
 * Per-statement MySQL/MariaDB timer for profiling a benchmark (not used by c360 itself):
 *
 *   C360_BENCH_MYSQL_URL=mysql://root@127.0.0.1:3307/ node --require ./bench/mysql-profile.cjs --import tsx bench/resolve.ts --engine mariadb --people 70000
 *
 * Wraps knex's MySQL client (`_query`, which every statement goes through), sums round trips and
 * time from send to answer per statement shape (IN lists and VALUES rows folded) and per phase
 * (the link phase starts at the first read of pending records, the tier at the first read of
 * unscored features), and prints the 30 most expensive and each phase's totals to stderr when the
 * process exits. Statements of one batch run concurrently on several connections, so their times
 * overlap: the sum is the server's and the wire's, not the wall clock.
 */
const path = require('node:path');
const Client = require(path.resolve(__dirname, '../node_modules/knex/lib/dialects/mysql/index.js'));

const stats = new Map();
const phases = new Map();
let phase = 'stage';
const shape = (sql) =>
  sql
    .replace(/\?(\s*,\s*\?)+/g, '?…')
    .replace(/\(\?…\)(\s*,\s*\(\?…\))+/g, '(?…)…')
    .replace(/(\(`kind` = \? and `[a-z._`]+` in \(\?…\)\))( or \(`kind` = \? and `[a-z._`]+` in \(\?…\)\))+/g, '$1 or …')
    .replace(/(\(`[a-z._`]*source` = \? and `[a-z._`]+` in \(\?…\)\))( or \(`[a-z._`]*source` = \? and `[a-z._`]+` in \(\?…\)\))+/g, '$1 or …')
    .replace(/WHEN \? THEN \?( WHEN \? THEN \?)+/g, 'WHEN ? THEN ?…')
    .replace(/\s+/g, ' ')
    .slice(0, 220);

const original = Client.prototype._query;
Client.prototype._query = function (connection, obj) {
  const sql = typeof obj === 'string' ? obj : (obj?.sql ?? '');
  if (phase === 'stage' && /pending = 1/.test(sql) && /limit/i.test(sql)) phase = 'link';
  if (phase === 'link' && /scored = 0/.test(sql)) phase = 'probabilistic';
  const started = process.hrtime.bigint();
  const done = () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const k = `${phase} | ${shape(sql)}`;
    const s = stats.get(k) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += ms;
    stats.set(k, s);
    const p = phases.get(phase) ?? { calls: 0, ms: 0 };
    p.calls++;
    p.ms += ms;
    phases.set(phase, p);
  };
  return original.call(this, connection, obj).then(
    (r) => (done(), r),
    (e) => {
      done();
      throw e;
    },
  );
};

process.on('exit', () => {
  const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms);
  for (const [p, s] of phases) process.stderr.write(`MySQL ${p}: ${s.calls} statements, ${(s.ms / 1000).toFixed(1)} s\n`);
  for (const [k, s] of rows.slice(0, 30)) process.stderr.write(`${(s.ms / 1000).toFixed(1).padStart(8)} s ${String(s.calls).padStart(8)}×  ${k}\n`);
});
