import { afterEach, describe, expect, it } from 'vitest';
import { startWallboardServer, type WallboardServer } from '../local/wallboard-server.js';

/** The local page around the wallboard handler; the handler here echoes the event it was given. */
let server: WallboardServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<WallboardServer> {
  server = await startWallboardServer({
    handler: async (event) => `<pre data-event>${JSON.stringify(event).replace(/</g, '&lt;')}</pre>`,
    refreshSeconds: 7,
  });
  return server;
}

describe('the local wallboard page', () => {
  it('hands the query parameters to the handler as a custom-widget event and refreshes itself', async () => {
    const { url } = await start();
    const response = await fetch(`${url}?ccId=1&vdn=170&maxRows=5&other=x`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const page = await response.text();
    expect(page).toContain('<meta http-equiv="refresh" content="7">');
    expect(page).toContain('<title>VDN 170 wallboard</title>');
    const event = JSON.parse(/<pre data-event>(.*)<\/pre>/.exec(page)?.[1] ?? '{}');
    expect(event).toMatchObject({
      ccId: '1',
      vdn: '170',
      maxRows: '5',
      widgetContext: { params: { ccId: '1', vdn: '170', maxRows: '5' }, timezone: { offsetInMinutes: 0 } },
    });
    expect(event).not.toHaveProperty('other');
  });

  it('escapes the title it takes from the query', async () => {
    const { url } = await start();
    const page = await (await fetch(`${url}?vdn=${encodeURIComponent('<b>')}`)).text();
    expect(page).toContain('<title>VDN &lt;b&gt; wallboard</title>');
  });

  it('answers 404 for any other path and 405 for any other method', async () => {
    const { url } = await start();
    expect((await fetch(url.replace('/wallboard', '/other'))).status).toBe(404);
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});
