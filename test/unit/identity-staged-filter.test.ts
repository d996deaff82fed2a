import { createStagedFilter } from '../../src/idmap/staged-filter';

describe('the records a first resolution has staged', () => {
  it('never says no to a record it was told of, and rarely says maybe to one it was not', () => {
    const staged = createStagedFilter();
    for (let i = 0; i < 200_000; i++) staged.add(i % 2 ? 'src_a' : 'src_b', `R${i}`);
    let forgotten = 0;
    for (let i = 0; i < 200_000; i++) if (!staged.mayHave(i % 2 ? 'src_a' : 'src_b', `R${i}`)) forgotten++;
    expect(forgotten).toBe(0);
    let wrong = 0;
    for (let i = 0; i < 200_000; i++) if (staged.mayHave(i % 2 ? 'src_b' : 'src_a', `R${i}`) || staged.mayHave('src_a', `X${i}`)) wrong++;
    expect(wrong).toBeLessThan(400);
  });
});
