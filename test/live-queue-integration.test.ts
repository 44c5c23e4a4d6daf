import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CmsClient, type CmsClientOptions } from '../lib/cms/client.js';
import { type CmsCredentials, staticCredentials } from '../lib/cms/credentials.js';
import type { SkillQueueRecord } from '../lib/cms/live-queue.js';
import { loadCmsSettings } from '../lib/cms/settings.js';
import type { Log } from '../lib/log.js';
import { WINDOW_MS } from '../lib/model.js';
import {
  type CmsQueueRecord,
  type CmsSimulator,
  type CmsSimulatorOptions,
  startCmsSimulator,
} from '../local/simulator/index.js';

// The live queue (`totalskillstatusex3`) read by the real client from the simulator over real HTTPS: what CMS
// served, batching, the one signature negotiation and refusal bound, both calls of a read at once, and a CMS
// without the interface.

const KEYS: CmsCredentials = { accessKey: 'sim-access-key', secretKey: 'sim-secret-key' };
/** Three and a half minutes into a window: queues have built up. */
const AT = Date.UTC(2026, 10, 26, 9, 0, 0) + 210_000;
const SKILLS = Array.from({ length: 30 }, (_, index) => index + 1);
const QUERY = { ccId: 1, vdn: 170, skillIds: SKILLS };

const closables: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const closable of closables.splice(0)) await closable.close();
});

async function simulator(options: CmsSimulatorOptions = {}): Promise<CmsSimulator> {
  const started = await startCmsSimulator({ now: () => AT, absentSkillIds: [7], ...options });
  closables.push(started);
  return started;
}

function client(target: CmsSimulator, overrides: Partial<CmsClientOptions> = {}): CmsClient {
  const made = new CmsClient({
    ...loadCmsSettings({ CMS_BASE_URL: target.url }),
    caCertificate: target.caCertificate,
    credentials: staticCredentials(KEYS),
    now: () => AT,
    random: () => 0,
    ...overrides,
  });
  closables.push(made);
  return made;
}

const deadline = () => ({ deadline: AT + 10_000 });

/** One read of a VDN, its live queue with it, as the collector and the query API read. */
function readBoth(reader: CmsClient, ...[query, options]: Parameters<CmsClient['currentCallStats']>) {
  return reader.currentCallStats(query, { ...options, liveQueue: true });
}

/** The live queue of one read. */
async function queueOf(reader: CmsClient, ...[query, options]: Parameters<CmsClient['currentCallStats']>) {
  return (await readBoth(reader, query, options)).liveQueue;
}

function recordingLog(): Log & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** What the client makes of a record the simulator served. */
function expected(record: CmsQueueRecord | undefined): SkillQueueRecord {
  if (record === undefined) throw new Error('the simulator serves no queue for this skill');
  return {
    skillId: record.skillId,
    callsWaiting: record.queueSize,
    longestWaitSeconds: record.queueTime,
    agentsLoggedOn: record.loggedOnAgents,
    agentsAvailable: record.availAgents,
    description: record.skillDescrip,
  };
}

const queueRequests = (target: CmsSimulator) =>
  target.requests.filter((request) => request.endpoint === 'totalskillstatusex3');

describe('the live queue over HTTPS', () => {
  let shared: CmsSimulator;
  beforeAll(async () => {
    shared = await startCmsSimulator({ now: () => AT, absentSkillIds: [7] });
  });
  afterAll(() => shared.close());

  it('gives per skill exactly what CMS served, leaving out a skill CMS does not have, and the VDN’s sum and maximum', async () => {
    const read = await queueOf(client(shared), QUERY, deadline());
    const served = SKILLS.filter((skillId) => skillId !== 7).map((skillId) =>
      expected(shared.queueAt(1, 170, skillId, AT)),
    );
    expect(read).toEqual({
      kind: 'read',
      at: AT,
      skills: served,
      total: {
        callsWaiting: served.reduce((sum, skill) => sum + skill.callsWaiting, 0),
        longestWaitSeconds: Math.max(...served.map((skill) => skill.longestWaitSeconds)),
      },
      slowestBatchMs: expect.any(Number),
      requests: 1,
    });
    // The simulated queues are not all empty: the comparison covers waiting calls and busy agents.
    expect(served.some((skill) => skill.callsWaiting > 0 && skill.agentsAvailable === 0)).toBe(true);
    expect(served.some((skill) => skill.callsWaiting === 0 && skill.agentsAvailable > 0)).toBe(true);
  });

  it('asks in batches of at most 1,000 skills, as for the counters', async () => {
    const before = queueRequests(shared).length;
    const skillIds = Array.from({ length: 2_500 }, (_, index) => index + 1);
    const read = await queueOf(client(shared), { ccId: 1, vdn: 9, skillIds }, deadline());
    expect(read).toMatchObject({ kind: 'read', requests: 3 });
    expect(read?.kind === 'read' && read.skills).toHaveLength(2_499);
    const batches = queueRequests(shared).slice(before);
    expect(batches.map((request) => request.skillIds.length).sort((a, b) => a - b)).toEqual([
      500, 1_000, 1_000,
    ]);
  });

  it('signs in the layout the counters negotiated, within the same refused-signature bound', async () => {
    const strict = await simulator({ signatureLayout: 'empty-query-line-millis' });
    const negotiating = client(strict, { signature: 'auto' });
    for (let read = 0; read < 3; read += 1) {
      const { liveQueue: queue, ...stats } = await readBoth(negotiating, QUERY, deadline());
      expect(stats.failures).toEqual([]);
      expect(queue?.kind).toBe('read');
    }
    // One refusal in all: whichever call signed first found the layout for both interfaces.
    expect(strict.refusedSignatures).toBe(1);
    expect(queueRequests(strict).every((request) => request.status === 200 || request.status === 401)).toBe(
      true,
    );
  });

  it('sends the two calls of a read at once, so a read costs one round trip, not two', async () => {
    const slow = await startCmsSimulator({ absentSkillIds: [7] });
    closables.push(slow);
    for (const endpoint of ['currentcallstateinfo', 'totalskillstatusex3'] as const) {
      slow.inject({ kind: 'latency', ms: 400 }, { times: Infinity, endpoint });
    }
    const reader = new CmsClient({
      ...loadCmsSettings({ CMS_BASE_URL: slow.url, CMS_SIGNATURE: 'huawei-reference' }),
      caCertificate: slow.caCertificate,
      credentials: staticCredentials(KEYS),
    });
    closables.push(reader);
    // The first read settles the signature (one request at a time until CMS accepts one); the second is the one.
    await readBoth(reader, QUERY, { deadline: Date.now() + 10_000 });
    const before = slow.requests.length;
    const { liveQueue: queue, ...stats } = await readBoth(reader, QUERY, { deadline: Date.now() + 10_000 });
    expect(stats.failures).toEqual([]);
    expect(queue?.kind).toBe('read');
    const [first, second] = slow.requests.slice(before);
    expect(new Set([first?.endpoint, second?.endpoint])).toEqual(
      new Set(['currentcallstateinfo', 'totalskillstatusex3']),
    );
    // Both arrived before CMS answered either: they were in flight together.
    expect(Math.abs((first?.at ?? 0) - (second?.at ?? 0))).toBeLessThan(400);
  });

  it('keeps the counters of a read whose live queue fails, and asks for the queue again next time', async () => {
    const flaky = await simulator();
    flaky.inject({ kind: 'status', status: 503 }, { times: 3, endpoint: 'totalskillstatusex3' });
    const reader = client(flaky, { maxAttempts: 3 });
    const first = await readBoth(reader, QUERY, deadline());
    expect(first.skills).toHaveLength(29);
    expect(first.liveQueue).toMatchObject({ kind: 'failed', error: { code: 'CMS_HTTP_ERROR' }, requests: 3 });
    const second = await readBoth(reader, QUERY, deadline());
    expect(second.liveQueue?.kind).toBe('read');
  });

  it('refuses a live-queue answer over the size cap, as for the counters', async () => {
    const huge = await simulator();
    huge.inject({ kind: 'hugeResponse', bytes: 200_000 }, { endpoint: 'totalskillstatusex3' });
    const read = await queueOf(client(huge, { maxResponseBytes: 100_000 }), QUERY, deadline());
    expect(read).toMatchObject({ kind: 'failed', error: { code: 'CMS_PROTOCOL_ERROR' } });
  });

  it('cleans and bounds the description CMS sends, whatever it holds', async () => {
    const hostile = await simulator();
    hostile.inject(
      { kind: 'skillDescrip', value: `\u001b[2J\u202eSales${'!'.repeat(500)}` },
      { endpoint: 'totalskillstatusex3' },
    );
    const read = await queueOf(client(hostile), QUERY, deadline());
    const first = read?.kind === 'read' ? read.skills[0] : undefined;
    expect(first?.description.startsWith('[2J Sales!')).toBe(true);
    expect(first?.description.length).toBeLessThanOrEqual(80);
  });
});

describe('a CMS without the live queue', () => {
  it.each([
    ['wrongCtiVersion', '0100003'],
    ['noPermission', '0101003'],
    ['notFound', 'HTTP 404'],
  ] as const)(
    '(%s) still answers the counters; the queue is asked once, with one WARN saying why',
    async (mode, why) => {
      const old = await simulator({ liveQueue: mode });
      const log = recordingLog();
      const reader = client(old, { log });
      for (let read = 0; read < 3; read += 1) {
        const { liveQueue: queue, ...stats } = await readBoth(reader, QUERY, deadline());
        expect(stats.failures).toEqual([]);
        expect(stats.skills).toHaveLength(29);
        expect(queue).toMatchObject({ kind: 'unsupported', requests: read === 0 ? 1 : 0 });
      }
      expect(queueRequests(old)).toHaveLength(1);
      const warnings = log.lines.filter((line) => line.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toContain(why);
    },
  );

  it('is asked again once the back-off has passed', async () => {
    let now = AT;
    const old = await startCmsSimulator({ now: () => now, liveQueue: 'wrongCtiVersion' });
    closables.push(old);
    const reader = client(old, { now: () => now });
    await queueOf(reader, QUERY, { deadline: now + 10_000 });
    now += 14 * 60_000;
    await queueOf(reader, QUERY, { deadline: now + 10_000 });
    expect(queueRequests(old)).toHaveLength(1);
    now += WINDOW_MS / 5;
    await queueOf(reader, QUERY, { deadline: now + 10_000 });
    expect(queueRequests(old)).toHaveLength(2);
  });
});
