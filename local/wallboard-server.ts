/**
 * The dashboard wallboard as a local web page: GET /wallboard?ccId=1&vdn=170[&maxRows=20] becomes the event a
 * CloudWatch custom widget sends (params as top-level keys and in widgetContext), the real wallboard handler
 * answers it, and its HTML is served in a page that refreshes itself (the one thing CloudWatch does for the
 * widget and a browser must do here). 127.0.0.1 only.
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WallboardHandler } from '../lib/lambda/wallboard.js';
import { wallboardPage } from '../lib/wallboard/render.js';

const WALLBOARD_PATH = '/wallboard';
const PARAMETERS = ['ccId', 'vdn', 'maxRows'] as const;

export interface WallboardServerOptions {
  readonly handler: WallboardHandler;
  /** How often the page reloads itself, in seconds. */
  readonly refreshSeconds: number;
  /** 0 (default) picks an ephemeral port. */
  readonly port?: number;
  readonly onError?: (error: unknown) => void;
}

export interface WallboardServer {
  /** e.g. http://127.0.0.1:40123/wallboard */
  readonly url: string;
  close(): Promise<void>;
}

/** What CloudWatch sends a custom widget, for a viewer in UTC. */
function widgetEventOf(searchParams: URLSearchParams): Record<string, unknown> {
  const params = Object.fromEntries(
    PARAMETERS.flatMap((name) => {
      const value = searchParams.get(name);
      return value === null ? [] : [[name, value]];
    }),
  );
  return {
    ...params,
    widgetContext: {
      dashboardName: 'local',
      widgetId: 'wallboard',
      locale: 'en',
      timezone: { label: 'UTC', offsetISO: '+00:00', offsetInMinutes: 0 },
      theme: 'light',
      params,
    },
  };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}

export async function startWallboardServer(options: WallboardServerOptions): Promise<WallboardServer> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== WALLBOARD_PATH) {
      send(
        response,
        404,
        'text/plain',
        `no page here; the wallboard is at ${WALLBOARD_PATH}?ccId=1&vdn=170\n`,
      );
      return;
    }
    if (request.method !== 'GET') {
      response.setHeader('allow', 'GET');
      send(response, 405, 'text/plain', 'GET only\n');
      return;
    }
    const event = widgetEventOf(url.searchParams);
    options
      .handler(event, { getRemainingTimeInMillis: () => 25_000 })
      .then((fragment) => {
        const vdn = url.searchParams.get('vdn');
        send(
          response,
          200,
          'text/html',
          wallboardPage(fragment, {
            title: vdn ? `VDN ${vdn} wallboard` : 'Wallboard',
            refreshSeconds: options.refreshSeconds,
          }),
        );
      })
      .catch((error: unknown) => {
        options.onError?.(error);
        send(response, 500, 'text/plain', 'the wallboard could not be drawn\n');
      });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${WALLBOARD_PATH}`,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
