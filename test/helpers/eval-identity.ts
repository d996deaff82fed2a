/**
 * `npm run eval:identity` as a user runs it: a child process, its report on stdout, its figures as
 * the report's last line (JSON).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');

/** Runs demo/eval-identity.ts with `args`; a deadline a loaded machine cannot miss. */
export function evalIdentity(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(ROOT, 'demo/eval-identity.ts'), ...args], { encoding: 'utf8', timeout: 600_000, cwd: ROOT });
}

/** The figures a quality floor reads (the JSON has many more: per system, per pair of systems, …). */
export interface EvalFigures {
  records: number;
  unknownRecords: number;
  precision: number;
  recall: number;
  recallCeiling: number;
  /** The ceiling through values one person alone carries (a household's shared phone only between records of one name). */
  recallCeilingIdentifying: number;
  /** Over-merged clusters joined only through a blocked or over-shared value. */
  overMergedViaBadValue: number;
  deterministic: { precision: number; recall: number };
  tiers: {
    probabilistic: { predicted: number; correct: number };
    nameBirth: { truePairs: number; f1: number | null };
  };
}

/** The figures of a run that succeeded: its report's last line. */
export function figuresOf(run: SpawnSyncReturns<string>): EvalFigures {
  if (run.status !== 0) throw new Error(`eval:identity exited ${run.status}: ${run.stderr}`);
  const out = run.stdout.trimEnd().split('\n');
  return JSON.parse(out[out.length - 1]);
}
