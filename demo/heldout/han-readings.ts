/**
 * The pinyin of Han characters, for `faker-world.py` (which has no pinyin of its own): reads
 * characters on stdin, writes `{"张": {"given": "zhang", "surname": "zhang"}, …}` on stdout, each
 * read as a given-name character and as a surname (单 is dan, as a surname shan). pinyin-pro is
 * the library the noisy world uses; resolution reads names with its own tables (pinyin.ts).
 */
import { pinyin } from 'pinyin-pro';

let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (text += chunk));
process.stdin.on('end', () => {
  const out: Record<string, { given: string; surname: string }> = {};
  for (const c of new Set(text.match(/\p{Script=Han}/gu) ?? [])) {
    out[c] = { given: pinyin(c, { toneType: 'none', type: 'string' }), surname: pinyin(c, { toneType: 'none', type: 'string', surname: 'head' }) };
  }
  process.stdout.write(JSON.stringify(out));
});
