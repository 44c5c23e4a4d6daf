import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli/main.js';
import { ALL_METRIC_NAMES, COUNTERS, KPIS, WINDOW_MS } from '../lib/model.js';
import { type CmsSimulator, startCmsSimulator } from '../local/simulator/index.js';

const SECRET_KEY = 'cli-secret-do-not-print';
let simulator: CmsSimulator;
let env: Record<string, string>;

/** A CA file trusting `target`'s certificate authority. */
function caFileOf(target: CmsSimulator): string {
  const caFile = join(mkdtempSync(join(tmpdir(), 'cli-ca-')), 'ca.pem');
  writeFileSync(caFile, target.caCertificate);
  return caFile;
}

beforeAll(async () => {
  simulator = await startCmsSimulator({ secretKey: SECRET_KEY, absentSkillIds: [4] });
  env = {
    CMS_BASE_URL: simulator.url,
    CMS_ACCESS_KEY: 'sim-access-key',
    CMS_SECRET_KEY: SECRET_KEY,
    CMS_CA_FILE: caFileOf(simulator),
    CC_ID: '1',
    VDN: '170',
  };
});

afterAll(() => simulator?.close());

async function cli(argv: string[], overrides: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const code = await runCli(
    argv,
    { ...env, ...overrides },
    { out: (t) => (out += t), err: (t) => (err += t) },
  );
  expect(`${out}${err}`).not.toContain(SECRET_KEY);
  return { code, out, err };
}

describe('cms-skill-metrics query', () => {
  it('prints a table per skill with counters, KPIs and the window start', async () => {
    const { code, out } = await cli(['query', '--skills', '1-3']);
    expect(code).toBe(0);
    expect(out).toContain('CcId 1 · VDN 170');
    for (const header of ['SkillId', 'Start', 'Offered', 'Aband%', 'SL20%', 'AvgWrap s'])
      expect(out).toContain(header);
    expect(out).toMatch(/^1\s+(\S+\s+){3}\d\d:\d\d\s+\d+/m);
    expect(out).toContain('VDN total');
  });

  describe('the live queue', () => {
    const AT = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 60_000;
    let frozen: CmsSimulator;
    beforeAll(async () => {
      frozen = await startCmsSimulator({ secretKey: SECRET_KEY, now: () => AT });
    });
    afterAll(() => frozen?.close());
    const at = (target: CmsSimulator) => ({ CMS_BASE_URL: target.url, CMS_CA_FILE: caFileOf(target) });

    it('shows calls waiting, the longest wait and agents available / logged on per skill, and the VDN’s', async () => {
      const { code, out } = await cli(['query', '--skills', '1-12'], at(frozen));
      expect(code).toBe(0);
      expect(out).toMatch(/^SkillId +Waiting {2}Longest s {2}Agents {2}Start /m);
      const queues = Array.from({ length: 12 }, (_, index) => frozen.queueAt(1, 170, index + 1, AT));
      for (const queue of queues) {
        const row = out.split('\n').find((line) => line.startsWith(`${queue?.skillId} `)) ?? '';
        expect(
          row
            .trim()
            .split(/\s{2,}/)
            .slice(1, 4),
        ).toEqual([
          String(queue?.queueSize),
          String(queue?.queueTime),
          `${queue?.availAgents}/${queue?.loggedOnAgents}`,
        ]);
      }
      const total = out.split('\n').find((line) => line.startsWith('VDN total')) ?? '';
      expect(
        total
          .trim()
          .split(/\s{2,}/)
          .slice(1, 4),
      ).toEqual([
        String(queues.reduce((sum, queue) => sum + (queue?.queueSize ?? 0), 0)),
        String(Math.max(...queues.map((queue) => queue?.queueTime ?? 0))),
        '–',
      ]);
    });

    it('carries each skill’s queue and the VDN’s in --json', async () => {
      const { out } = await cli(['query', '--skills', '1-3', '--json'], at(frozen));
      const document = JSON.parse(out);
      expect(document.skills.map((skill: { queue: unknown }) => skill.queue)).toEqual(
        [1, 2, 3].map((skillId) => {
          const queue = frozen.queueAt(1, 170, skillId, AT);
          return {
            callsWaiting: queue?.queueSize,
            longestWaitSeconds: queue?.queueTime,
            agentsLoggedOn: queue?.loggedOnAgents,
            agentsAvailable: queue?.availAgents,
          };
        }),
      );
      expect(Object.keys(document.rollup.queue)).toEqual(['callsWaiting', 'longestWaitSeconds']);
    });

    it('answers the counters of a CMS without it, exit 0, with queue null and a note saying why', async () => {
      const old = await startCmsSimulator({ secretKey: SECRET_KEY, liveQueue: 'wrongCtiVersion' });
      try {
        const { code, out, err } = await cli(['query', '--skills', '1-3', '--json'], at(old));
        expect(code).toBe(0);
        const document = JSON.parse(out);
        expect(document.skills.map((skill: { queue: unknown }) => skill.queue)).toEqual([null, null, null]);
        expect(document.rollup.queue).toBeNull();
        expect(err).toMatch(/^cms-skill-metrics: note: live queue not available: CMS result code 0100003/);
      } finally {
        await old.close();
      }
    });
  });

  it('lists the skills that have had no call yet in this window', async () => {
    const windowStart = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
    const quiet = await startCmsSimulator({ secretKey: SECRET_KEY, now: () => windowStart });
    try {
      const { code, out } = await cli(['query', '--skills', '1-3'], {
        CMS_BASE_URL: quiet.url,
        CMS_CA_FILE: caFileOf(quiet),
      });
      expect(code).toBe(0);
      for (const skillId of [1, 2, 3])
        expect(out).toMatch(new RegExp(`^${skillId}\\s+(\\S+\\s+){3}\\d\\d:\\d\\d\\s+0\\s`, 'm'));
    } finally {
      await quiet.close();
    }
  });

  it('prints one JSON document keyed by the metric names, with absent KPIs as null', async () => {
    const { code, out } = await cli(['query', '--skills', '1-5', '--json', '--vdn', '171']);
    expect(code).toBe(1);
    const document = JSON.parse(out);
    expect(document).toMatchObject({ ccId: 1, vdn: 171, missingSkillIds: [4] });
    expect(document.skills.map((skill: { skillId: number }) => skill.skillId)).toEqual([1, 2, 3, 5]);
    const [first] = document.skills;
    expect(Object.keys(first.counters)).toEqual(COUNTERS.map((c) => c.name));
    expect(Object.keys(first.kpis)).toEqual(KPIS.map((k) => k.name));
    for (const skill of document.skills) {
      const served = simulator.statsAt(1, 171, skill.skillId, Date.parse(skill.windowStart));
      expect(served?.startTime).toBe(Date.parse(skill.windowStart));
      expect(skill.kpis.AbandonmentRate === null).toBe(skill.counters.CallsOffered === 0);
      expect(Object.keys(skill.counters).every((name) => ALL_METRIC_NAMES.includes(name as never))).toBe(
        true,
      );
    }
  });

  it('exits 1 with a line per skill CMS did not return', async () => {
    const { code, out, err } = await cli(['query', '--skills', '3-5']);
    expect(code).toBe(1);
    expect(out).toContain('CcId 1 · VDN 170');
    expect(err).toBe(
      'cms-skill-metrics: skill 4: CMS did not return it (not a skill of VDN 170 of call center 1?)\n',
    );
  });

  it('exits 1 when CMS returned none of the skills, as with a wrong VDN', async () => {
    const { code, err } = await cli(['query', '--skills', '4']);
    expect(code).toBe(1);
    expect(err.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('carries an error field in --json when skills are missing', async () => {
    const { code, out } = await cli(['query', '--skills', '3-5', '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(out).error).toEqual({ code: 'SKILLS_MISSING', message: 'CMS did not return skills 4' });
  });

  it('carries an error field in --json after a total failure, beside the zero counters', async () => {
    simulator.inject({ kind: 'status', status: 500 }, { times: 3 });
    const { code, out } = await cli(['query', '--skills', '1-3', '--json']);
    expect(code).toBe(1);
    const document = JSON.parse(out);
    expect(document.error).toEqual({
      code: 'CMS_HTTP_ERROR',
      message: 'CMS failed for skills 1-3: CMS answered HTTP 500',
    });
    expect(document.skills).toEqual([]);
  });

  it.each([
    [['query'], '--skills: is required'],
    [['query', '--skills', '1-x'], '--skills'],
    [['query', '--skills', '1', '--vdn', '0'], '--vdn: must be between 1 and 5000'],
    [['query', '--skills', '1', '--cc-id', 'abc'], '--cc-id: must be a whole number'],
    [['query', '--skills', '1', '--verbose'], "Unknown option '--verbose'"],
    [['report'], 'command: unknown "report"'],
    [[], 'command: missing'],
  ])('rejects %j with a one-line error and exit code 2', async (argv, message) => {
    const { code, err, out } = await cli(argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')[0]).toContain(message);
  });

  it.each([
    [{ CMS_BASE_URL: undefined }, 'CMS_BASE_URL: is required'],
    [{ CMS_BASE_URL: 'http://127.0.0.1:1' }, 'CMS_BASE_URL: must be an https:// URL'],
    [{ CMS_SECRET_KEY: undefined }, 'CMS_SECRET_KEY: is required'],
    [{ CC_ID: undefined }, 'CC_ID: is required'],
    [{ CMS_CA_FILE: '/nonexistent.pem' }, 'CMS_CA_FILE: cannot read'],
  ])('rejects configuration %j naming the variable, exit code 2', async (overrides, message) => {
    const { code, err } = await cli(['query', '--skills', '1'], overrides);
    expect(code).toBe(2);
    expect(err.split('\n')[0]).toContain(message);
  });

  it('exits 1 with the reason when CMS refuses the key pair, without printing the key', async () => {
    const { code, err } = await cli(['query', '--skills', '1'], { CMS_SECRET_KEY: `${SECRET_KEY}-wrong` });
    expect(code).toBe(1);
    expect(err).toContain('HTTP 401');
    expect(err).not.toContain(`${SECRET_KEY}-wrong`);
  });

  it('exits 1 naming the CMS result code when CMS answers a failure', async () => {
    simulator.inject({ kind: 'resultCode', code: '0100009', desc: 'system busy' });
    const { code, err } = await cli(['query', '--skills', '1']);
    expect(code).toBe(1);
    expect(err).toContain('CMS result code 0100009 (a result code CMS does not publish): system busy');
  });

  it('prints what CMS sent without its control characters, so CMS cannot drive the terminal', async () => {
    simulator.inject({
      kind: 'resultCode',
      code: '0100001',
      desc: 'busy\u001b[2J\u001b]0;owned\u0007\r\nfake line',
    });
    const { code, err } = await cli(['query', '--skills', '1']);
    expect(code).toBe(1);
    expect(err).toContain(
      'CMS result code 0100001 (the call failed on the CMS side): busy [2J ]0;owned fake line',
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must never reach the terminal.
    expect(err.replace(/\n$/, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('refuses a CMS whose certificate is not issued by the configured CA', async () => {
    const { code, err } = await cli(['query', '--skills', '1'], { CMS_CA_FILE: '' });
    expect(code).toBe(1);
    expect(err).toMatch(/certificate/i);
  });
});
