import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, launch } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticCredentials } from '../../lib/cms/credentials.js';
import { computeKpis } from '../../lib/kpi.js';
import { createCollectorHandler } from '../../lib/lambda/collector.js';
import { createWallboardHandler } from '../../lib/lambda/wallboard.js';
import type { Log } from '../../lib/log.js';
import { COUNTERS, type CounterName, KPIS, type KpiName, WINDOW_MS } from '../../lib/model.js';
import { judge } from '../../lib/wallboard/render.js';
import { parseThresholds } from '../../lib/wallboard/thresholds.js';
import { HealthRecorder, TodayRecorder } from '../../local/recorders.js';
import { type CmsSimulator, startCmsSimulator } from '../../local/simulator/index.js';
import { QueueModel } from '../../local/simulator/queue.js';
import { TrafficModel } from '../../local/simulator/traffic.js';
import { TableSink } from '../../local/table.js';
import { startWallboardServer, type WallboardServer } from '../../local/wallboard-server.js';

/**
 * The local wallboard page in headless Chromium (Debian's `chromium`, or CHROMIUM_PATH): the rows, their order
 * and their colours as a person sees them, and the screenshot the README shows.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = new URL('../../docs/wallboard.png', import.meta.url).pathname;
const KEYS = { accessKey: 'local-access-key', secretKey: 'local-secret-key' };
const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Page colours of the three levels, as CSS computes them. */
const COLOURS = {
  red: 'rgb(209, 50, 18)',
  amber: 'rgb(248, 156, 36)',
  green: 'rgb(29, 129, 2)',
} as const;
/** The browser's getComputedStyle, used inside page functions (the project compiles without the DOM library). */
declare const getComputedStyle: (element: unknown) => { readonly backgroundColor: string };

const STATUS_RANK: Record<string, number> = { red: 4, amber: 3, green: 2, low: 1, idle: 0 };

let simulator: CmsSimulator;
let server: WallboardServer;
let browser: Browser;
let profileDir: string;

const THRESHOLDS = JSON.stringify([
  { ccId: 1, vdn: 170, skillIds: '1-4', serviceLevel: { amber: 60, red: 40 } },
]);
const SKILLS = Array.from({ length: 24 }, (_, index) => index + 1).filter((skill) => skill !== 8);

/**
 * Traffic differs from window to window; the first simulator seed whose traffic at `at` shows red, amber and
 * green rows, and a caller who has waited more than two minutes (a red longest wait), makes the page show all
 * of them, whenever the test runs.
 */
function seedWithEveryLevel(at: number): number {
  const book = parseThresholds(THRESHOLDS);
  for (let seed = 1; seed <= 1_000; seed += 1) {
    const model = new TrafficModel({ seed });
    const queues = new QueueModel({ seed });
    const judged = SKILLS.map((skill) => {
      const record = model.statsAt(1, 170, skill, at);
      const live = queues.queueAt(1, 170, skill, at);
      const counters = Object.fromEntries(
        COUNTERS.map(({ name, cmsField }) => [name, record[cmsField]]),
      ) as Record<CounterName, number>;
      const kpis = computeKpis(counters);
      const nullable = Object.fromEntries(KPIS.map(({ name }) => [name, kpis[name] ?? null])) as Record<
        KpiName,
        number | null
      >;
      const queue = {
        callsWaiting: live.queueSize,
        longestWaitSeconds: live.queueTime,
        agentsLoggedOn: live.loggedOnAgents,
        agentsAvailable: live.availAgents,
      };
      return judge({ counters, kpis: nullable, queue }, book.forSkill(1, 170, skill));
    });
    const statuses = new Set(judged.map((row) => row.status));
    const longWait = judged.some((row) => row.longestWait === 'red');
    if (statuses.has('red') && statuses.has('amber') && statuses.has('green') && longWait) return seed;
  }
  throw new Error('no seed up to 1,000 gives red, amber and green rows and a red longest wait');
}

beforeAll(async () => {
  // Late in the previous window, whenever the test runs: busy queues have had time to show their colours, and
  // no clock runs ahead of the real one.
  const frozen = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 30_000;
  simulator = await startCmsSimulator({
    ...KEYS,
    now: () => frozen,
    absentSkillIds: [8],
    seed: seedWithEveryLevel(frozen),
  });
  const env = {
    CMS_BASE_URL: simulator.url,
    CMS_TARGETS: JSON.stringify([{ ccId: 1, vdn: 170, skillIds: '1-24' }]),
    QUERY_CACHE_SECONDS: '2',
    // The collector run that publishes health must not wait for a window's closing read.
    CLOSING_READ_REACH_SECONDS: '0',
    WALLBOARD_THRESHOLDS: THRESHOLDS,
  };
  const credentials = staticCredentials({ ...KEYS, caCertificate: simulator.caCertificate });
  const health = new HealthRecorder();
  const today = new TodayRecorder();
  const collect = createCollectorHandler(env, {
    credentials,
    log: silentLog,
    sink: health.recording(today.recording(new TableSink({ write: () => {} }))),
  });
  await collect({}, { getRemainingTimeInMillis: () => 20_000 });
  server = await startWallboardServer({
    handler: createWallboardHandler(env, { credentials, log: silentLog, health, today }),
    refreshSeconds: 5,
  });
  profileDir = await mkdtemp(join(tmpdir(), 'wallboard-chromium-'));
  browser = await launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profileDir}`,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.close(), simulator?.close()]);
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

interface ShownRow {
  skill: number;
  status: string;
  badge: string;
  cells: Record<string, { text: string; background: string }>;
}

describe('the wallboard page in a real browser', () => {
  it('shows every skill CMS returned, worst first, in red, amber and green, and the VDN total', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 400, deviceScaleFactor: 1 });
    const response = await page.goto(`${server.url}?ccId=1&vdn=170&maxRows=24`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);

    const rows: ShownRow[] = await page.$$eval('tr[data-skill]', (elements) =>
      elements.map((row) => ({
        skill: Number(row.getAttribute('data-skill')),
        status: row.getAttribute('data-status') ?? '',
        badge: getComputedStyle(row.querySelector('.badge')).backgroundColor,
        cells: Object.fromEntries(
          [...row.querySelectorAll('td[data-cell]')].map((cell) => [
            cell.getAttribute('data-cell'),
            { text: cell.textContent ?? '', background: getComputedStyle(cell).backgroundColor },
          ]),
        ),
      })),
    );
    expect(rows.map((row) => row.skill).sort((a, b) => a - b)).toEqual(SKILLS);
    const ranks = rows.map((row) => STATUS_RANK[row.status] ?? -1);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    for (const level of ['red', 'amber', 'green'] as const) {
      const ofLevel = rows.filter((row) => row.status === level);
      expect(ofLevel.length, `rows that are ${level}`).toBeGreaterThan(0);
      for (const row of ofLevel) expect(row.badge).toBe(COLOURS[level]);
    }
    // A red row has at least one red figure, and every judged figure shows its level's colour.
    for (const row of rows.filter((item) => item.status === 'red')) {
      expect(Object.values(row.cells).some((cell) => cell.background === COLOURS.red)).toBe(true);
    }
    // The live queue leads every row, and a caller has waited past the red threshold (2 minutes).
    for (const row of rows) {
      expect(row.cells.waiting?.text).toMatch(/^\d+$/);
      expect(row.cells['longest-wait']?.text).toMatch(/^\d+:\d\d$/);
      expect(row.cells.agents?.text).toMatch(/^\d+ \/ \d+$/);
    }
    expect(rows.some((row) => row.cells['longest-wait']?.background === COLOURS.red)).toBe(true);
    const total = await page.$eval('tr[data-total]', (row) => row.textContent ?? '');
    expect(total).toMatch(/^VDN 170 \(23 skills\)/);
    const totalWait = await page.$eval('tr[data-total] td[data-cell="longest-wait"]', (cell) => ({
      text: cell.textContent ?? '',
      background: getComputedStyle(cell).backgroundColor,
    }));
    expect(totalWait).toEqual({ text: expect.stringMatching(/^\d+:\d\d$/), background: COLOURS.red });
    expect(await page.$eval('[data-missing]', (note) => note.textContent)).toBe(
      'Not returned by CMS: skill 8.',
    );
    expect(await page.$eval('[data-health]', (line) => line.textContent)).toMatch(/^Collector: collecting/);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });

  it('runs no script: the page is HTML and CSS only, as in a CloudWatch custom widget', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}?ccId=1&vdn=170`, { waitUntil: 'load' });
    expect(await page.$$eval('script', (scripts) => scripts.length)).toBe(0);
    await page.close();
  });
});
