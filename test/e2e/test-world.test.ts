/**
 * The test world itself: one whose start fails part-way (a database that timed out, a gateway
 * that would not start) closes what it had started, or its servers would keep jest from exiting.
 */
import { startTestWorld } from '../helpers/world';

/** Whether anything still answers on `url`'s port (a closed listener refuses the connection). */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return true;
  } catch {
    return false;
  }
}

describe('the test world', () => {
  it('closes the stand-ins it started when a later step fails', async () => {
    const urls: string[] = [];
    await expect(
      startTestWorld({
        people: 20,
        configPatch: (raw) => {
          // The stand-ins' addresses, as the gateway would have been given them.
          for (const source of raw.sources)
            for (const value of Object.values(source)) if (typeof value === 'string' && value.startsWith('http://127.0.0.1:')) urls.push(value);
          throw new Error('a gateway that would not start');
        },
      }),
    ).rejects.toThrow('a gateway that would not start');
    // Support, SCRM and the two demo systems' stand-ins.
    expect(urls).toHaveLength(4);
    for (const url of urls) expect(await answers(url)).toBe(false);
  });
});
