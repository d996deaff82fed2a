/**
 * The test world itself: one whose start fails part-way (a database that timed out, a gateway
 * that would not start) closes what it had started, or its servers would keep jest from exiting.
 */
import { startTestWorld } from '../helpers/world';

const listening = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

/** Listening servers once closing ones are gone: a closed server's handle is released a turn of the loop after its callback. */
async function listeningSettled(expected: number): Promise<number> {
  for (let i = 0; i < 100 && listening() > expected; i++) await new Promise((r) => setTimeout(r, 100));
  return listening();
}

describe('the test world', () => {
  it('closes the stand-ins it started when a later step fails', async () => {
    const before = listening();
    await expect(
      startTestWorld({
        people: 20,
        configPatch: () => {
          throw new Error('a gateway that would not start');
        },
      }),
    ).rejects.toThrow('a gateway that would not start');
    expect(await listeningSettled(before)).toBe(before);
  });
});
