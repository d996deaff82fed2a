/**
 * The IDE: GraphiQL served by the gateway from the files its packages ship, opened in real
 * headless Chromium with every request that does not go to 127.0.0.1 refused. A user types a
 * key into the prefilled header editor, runs a query and reads the answer on the page.
 */
import { chromium as playwright, type Browser } from 'playwright-core';
import { startTestWorld, apiKeyFor, type TestWorld } from '../helpers/world';
import { describeWithChromium } from '../helpers/chromium';
import type { SourceName } from '../../src/vocabulary';

let world: TestWorld;
let customerId: string;
const HINT = 'Demo mode: put `test-admin-key` in X-Api-Key.';
/** Markup that would run if the page rendered data as HTML; within the CRM's 64 characters for a name (MariaDB enforces them). */
const HOSTILE_NAME = '<img src=/ide/x onerror=document.title=1><script>x</script>';

beforeAll(async () => {
  world = await startTestWorld({
    people: 60,
    seed: 11,
    demoSystems: false,
    configPatch: (c) => {
      c.server.ide = true;
      c.server.ideHint = HINT;
      c.demo = {};
    },
  });
  // The customer the browser reads has a CRM name written to run as markup: the page must show it as text.
  const { contact_id: contactId } = await world.dbs.crm.db('crm_contacts').first('contact_id');
  await world.dbs.crm.db('crm_contacts').where({ contact_id: contactId }).update({ name: HOSTILE_NAME });
  const [id] = await world.gw.idmap.customerIdsBySourceRecords([{ source: 'crm' as SourceName, recordId: contactId }]);
  customerId = id!;
});

afterAll(async () => world?.close());

describe('IDE: served by the gateway', () => {
  it('answers a browser on /graphql with the page, which loads scripts and styles from this server only', async () => {
    const res = await fetch(`${world.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    // A release changes the page: a cache must ask again each time, and never hand it to a JSON client of /graphql.
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('vary')?.split(/\s*,\s*/)).toEqual(expect.arrayContaining(['Accept', 'Accept-Encoding']));
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toHaveLength(6);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/ide\/[a-z-]+\.[0-9a-f]{12}\.(js|css)$/);
      const a = await fetch(`${world.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(a.status).toBe(200);
      expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(a.headers.get('content-encoding')).toBe('gzip');
      expect((await a.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('shows the demo hint only in demo mode, and the page itself needs no credentials', async () => {
    const html = await (await fetch(`${world.url}/ide/`)).text();
    expect(html).toContain('<code>test-admin-key</code>');
    const operation = await fetch(`${world.url}/graphql?query=%7B__typename%7D`, { headers: { accept: 'text/html' } });
    expect(operation.status).toBe(401);
  });

  it('answers an unknown asset with 404 and the coded JSON error every other route answers', async () => {
    const res = await fetch(`${world.url}/ide/graphiql.000000000000.js`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe('NOT_FOUND');
  });
});

describeWithChromium('IDE: in headless Chromium, offline', (chromiumPath) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await playwright.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
  });
  afterAll(async () => browser?.close());

  it('types a key into the prefilled header editor, runs a query and shows the answer', async () => {
    const context = await browser.newContext();
    const refused: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      refused.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const paths: string[] = [];
    const asked: Array<Record<string, string>> = [];
    page.on('request', (r) => {
      paths.push(new URL(r.url()).pathname);
      if (r.method() === 'POST') asked.push(r.headers());
    });
    await page.goto(`${world.url}/graphql`);

    await expect(page.locator('#c360-hint').innerText()).resolves.toBe('Demo mode: put test-admin-key in X-Api-Key.');
    const headerEditor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').first();
    await headerEditor.waitFor({ timeout: 30_000 });
    await expect(headerEditor.evaluate((el) => (el as any).CodeMirror.getValue())).resolves.toBe('{"X-Api-Key": ""}');

    // Type the key between the empty quotes, as a user would: the page then loads that role's schema.
    const introspected = page.waitForResponse(
      async (r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('__schema') && r.status() === 200 && (await r.text()).includes('"__schema"'),
      { timeout: 60_000 },
    );
    await headerEditor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type(apiKeyFor('admin'));
    await expect(headerEditor.evaluate((el) => (el as any).CodeMirror.getValue())).resolves.toBe(`{"X-Api-Key": "${apiKeyFor('admin')}"}`);
    await introspected;
    // Nothing was asked with the empty key, so no 401 sits in the result pane once the schema has loaded.
    await expect(
      page
        .locator('.result-window .CodeMirror')
        .first()
        .evaluate((el) => (el as any).CodeMirror.getValue()),
    ).resolves.toBe('');
    expect(asked.filter((headers) => !headers['x-api-key'])).toEqual([]);

    const queryEditor = page.locator('.graphiql-query-editor .CodeMirror').first();
    await queryEditor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(`query FromTheIde { customer(id: "${customerId}") { id sourceRecords { source } crmContacts { name } } }`);
    await page.locator('.graphiql-execute-button').click();

    const result = page.locator('.result-window .CodeMirror').first();
    await page.waitForFunction((id) => (globalThis as any).document.querySelector('.result-window')?.textContent?.includes(id), customerId, { timeout: 30_000 });
    const answer = JSON.parse(await result.evaluate((el) => (el as any).CodeMirror.getValue()));
    expect(answer.errors).toBeUndefined();
    expect(answer.data.customer.id).toBe(customerId);
    expect(answer.data.customer.sourceRecords.length).toBeGreaterThan(0);
    // Customer data is text on the page, never markup: nothing of it ran, nothing was fetched.
    expect(answer.data.customer.crmContacts).toEqual([{ name: HOSTILE_NAME }]);
    expect(await page.title()).toBe('c360 GraphiQL');
    expect(await page.locator('.result-window img, .result-window script').count()).toBe(0);
    expect(paths).not.toContain('/ide/x');

    // The key never reaches the browser's storage (GraphiQL writes its history there, headers and all). The
    // query names the customer looked up: it is kept for this tab (sessionStorage), never on disk (localStorage).
    const stored = (kind: 'localStorage' | 'sessionStorage') => page.evaluate((k) => JSON.stringify(Object.entries((globalThis as any)[k])), kind);
    // The history is written as the query runs; the tab's own state (what a reload restores) a moment later (GraphiQL
    // debounces it): wait for that, or a loaded machine reloads before it and the tab comes back with the default query.
    await page.waitForFunction(
      () => ['graphiql:tabState', 'graphiql:query'].some((key) => ((globalThis as any).sessionStorage.getItem(key) ?? '').includes('FromTheIde')),
      undefined,
      { timeout: 30_000 },
    );
    for (const kind of ['localStorage', 'sessionStorage'] as const) expect(await stored(kind)).not.toContain(apiKeyFor('admin'));
    expect(await stored('localStorage')).not.toContain('FromTheIde');
    expect(await stored('localStorage')).not.toContain(customerId);

    // A reload keeps the query and asks for the key again; a key an older page left in the history is
    // blanked, and the history it left on disk is taken off it.
    await page.evaluate((key) => {
      const entry = { query: '{ __typename }', variables: '', headers: JSON.stringify({ 'X-Api-Key': key }) };
      (globalThis as any).localStorage.setItem('graphiql:favorites', JSON.stringify({ favorites: [entry] }));
      const old = {
        query: 'query OldLookup($v: String!) { customerByIdentifier(kind: PHONE, value: $v) { id } }',
        variables: '{"v": "+8613900139000"}',
        headers: JSON.stringify({ 'X-Api-Key': key }),
      };
      (globalThis as any).localStorage.setItem('graphiql:queries', JSON.stringify({ queries: [old] }));
    }, apiKeyFor('admin'));
    await page.reload();
    await headerEditor.waitFor({ timeout: 30_000 });
    await expect(headerEditor.evaluate((el) => (el as any).CodeMirror.getValue())).resolves.toBe('{"X-Api-Key": ""}');
    await expect(queryEditor.evaluate((el) => (el as any).CodeMirror.getValue())).resolves.toContain('FromTheIde');
    const favorites = await page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem('graphiql:favorites')));
    expect(favorites).toEqual({ favorites: [{ query: '{ __typename }', variables: '', headers: '{"X-Api-Key":""}' }] });
    for (const kind of ['localStorage', 'sessionStorage'] as const) expect(await stored(kind)).not.toContain(apiKeyFor('admin'));
    expect(await stored('localStorage')).not.toMatch(/OldLookup|13900139000|FromTheIde/);

    // Another tab of the same browser starts without this tab's operations; history an older page
    // left on disk moves into the first tab that opens, and off the disk.
    await page.evaluate(() =>
      (globalThis as any).localStorage.setItem('graphiql:queries', JSON.stringify({ queries: [{ query: '{ OldLookup: __typename }', variables: '' }] })),
    );
    const other = await context.newPage();
    await other.goto(`${world.url}/graphql`);
    await other.locator('.graphiql-query-editor .CodeMirror').first().waitFor({ timeout: 30_000 });
    await expect(
      other
        .locator('.graphiql-query-editor .CodeMirror')
        .first()
        .evaluate((el) => (el as any).CodeMirror.getValue()),
    ).resolves.not.toContain('FromTheIde');
    expect(await other.evaluate(() => JSON.stringify(Object.entries((globalThis as any).sessionStorage)))).toContain('OldLookup');
    expect(await stored('localStorage')).not.toMatch(/OldLookup|FromTheIde/);
    await other.close();

    expect(refused).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('runs the change feed: each change shows as it comes, Stop closes the stream, a role without the feed sees its refusal', async () => {
    const context = await browser.newContext();
    await context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${world.url}/ide/`);
    const headerEditor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').first();
    await headerEditor.waitFor({ timeout: 30_000 });
    const setHeaders = (key: string) => headerEditor.evaluate((el, k) => (el as any).CodeMirror.setValue(JSON.stringify({ 'X-Api-Key': k })), key);
    const resultText = () =>
      page
        .locator('.result-window .CodeMirror')
        .first()
        .evaluate((el) => (el as any).CodeMirror.getValue() as string);
    const waitForResult = (text: string) =>
      page.waitForFunction((t) => (globalThis as any).document.querySelector('.result-window')?.textContent?.includes(t), text, { timeout: 30_000 });
    const waitForStreams = (n: number) => until(() => world.gw.feed.size() === n);

    // A wrong key's failed schema load shows; the right key's schema load clears it.
    await setHeaders('not-a-key');
    await waitForResult('UNAUTHENTICATED');
    await setHeaders(apiKeyFor('admin'));
    await page.waitForFunction(() => (globalThis as any).document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue() === '', undefined, { timeout: 30_000 });
    await page
      .locator('.graphiql-query-editor .CodeMirror')
      .first()
      .evaluate((el) => (el as any).CodeMirror.setValue('subscription FromTheIde { customerChanged(kinds: [MERGED]) { kind customerId otherCustomerId } }'));
    await page.locator('.graphiql-execute-button').click();
    await waitForStreams(1);

    const { body } = await world.query('{ customersConnection(first: 2) { edges { node { id } } } }');
    const [survivor, merged] = body.data.customersConnection.edges.map((e: any) => e.node.id);
    const merge = await world.query('mutation($s: ID!, $m: ID!) { mergeCustomers(survivorId: $s, mergedId: $m, reason: "ide test") { customerId } }', {
      s: survivor,
      m: merged,
    });
    expect(merge.body.errors).toBeUndefined();
    await waitForResult(merged);
    expect(JSON.parse(await resultText())).toEqual({ data: { customerChanged: { kind: 'MERGED', customerId: survivor, otherCustomerId: merged } } });

    // Stop (the same button) closes the stream on the server: a principal may hold only a few.
    await page.locator('.graphiql-execute-button').click();
    await waitForStreams(0);

    await setHeaders(apiKeyFor('marketing'));
    await page.locator('.graphiql-execute-button').click();
    await waitForResult('FORBIDDEN');
    expect(JSON.parse(await resultText()).errors).toEqual([{ message: expect.any(String), extensions: { code: 'FORBIDDEN' } }]);
    expect(world.gw.feed.size()).toBe(0);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});

/** Polls a condition of the gateway's (never a fixed sleep), with a generous deadline. */
async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the gateway');
    await new Promise((r) => setTimeout(r, 50));
  }
}
