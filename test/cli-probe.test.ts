import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli/main.js';
import { SIGNATURE_LAYOUT_NAMES } from '../lib/cms/sign.js';
import { type CmsSimulator, type CmsSimulatorOptions, startCmsSimulator } from '../local/simulator/index.js';

const SECRET_KEY = 'probe-secret-do-not-print';
const simulators: CmsSimulator[] = [];

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
});

async function simulator(options: CmsSimulatorOptions = {}): Promise<CmsSimulator> {
  const started = await startCmsSimulator({ secretKey: SECRET_KEY, ...options });
  simulators.push(started);
  return started;
}

function envFor(target: CmsSimulator, overrides: Record<string, string | undefined> = {}) {
  const caFile = join(mkdtempSync(join(tmpdir(), 'probe-ca-')), 'ca.pem');
  writeFileSync(caFile, target.caCertificate);
  return {
    CMS_BASE_URL: target.url,
    CMS_ACCESS_KEY: 'sim-access-key',
    CMS_SECRET_KEY: SECRET_KEY,
    CMS_CA_FILE: caFile,
    CMS_TIMEOUT_MS: '2000',
    CC_ID: '1',
    VDN: '170',
    ...overrides,
  };
}

async function probe(env: Record<string, string | undefined>, ...flags: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(['probe', ...flags], env, { out: (t) => (out += t), err: (t) => (err += t) });
  expect(`${out}${err}`).not.toContain(SECRET_KEY);
  expect(`${out}${err}`).not.toContain('auth-v2');
  const lines = out.trimEnd().split('\n');
  return { code, out, err, lines, last: lines.at(-1) ?? '' };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('cms-skill-metrics probe', () => {
  it('finds the layout CMS accepts and ends with the setting to use, exit 0', async () => {
    const cms = await simulator({ signatureLayout: 'huawei-reference-millis' });
    const { code, lines, last } = await probe(envFor(cms));
    expect(code).toBe(0);
    expect(last).toBe('CMS_SIGNATURE=huawei-reference-millis');
    expect(lines).toEqual([
      expect.stringMatching(/^ok {4}tcp +connected to 127\.0\.0\.1:\d+/),
      expect.stringMatching(
        /^ok {4}tls +TLSv1\.[23]: certificate "127\.0\.0\.1" valid until .*; host name 127\.0\.0\.1 matches$/,
      ),
      expect.stringMatching(
        /chain: "127\.0\.0\.1" ← issued by "cms-skill-metrics simulator CA"; trusted through .* from CMS_CA_FILE$/,
      ),
      expect.stringMatching(/^FAIL +signature +huawei-reference: refused \(HTTP 401\)$/),
      expect.stringMatching(/^FAIL +signature +empty-query-line-millis: refused \(HTTP 401\)$/),
      expect.stringMatching(/^ok +signature +huawei-reference-millis: accepted$/),
      expect.stringMatching(/^ok +clock +this machine is within a second of CMS/),
      expect.stringMatching(/^ok +query +CMS answered 1 of 1 skills of VDN 170 \(call center 1\)$/),
      expect.stringMatching(/^ok +queue +live queue available: CMS answered it for 1 of 1 skills$/),
      'CMS_SIGNATURE=huawei-reference-millis',
    ]);
    expect(cms.refusedSignatures).toBe(2);
  });

  it('prints one JSON document with the outcome, the findings and the exit code', async () => {
    const cms = await simulator({ signatureLayout: 'empty-query-line' });
    const { code, out } = await probe(envFor(cms), '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      outcome: 'accepted',
      signatureLayout: 'empty-query-line',
      signaturesRefused: 3,
      conclusion: 'CMS_SIGNATURE=empty-query-line',
      liveQueue: 'available',
      exitCode: 0,
      findings: expect.arrayContaining([{ step: 'tcp', ok: true, detail: expect.any(String) }]),
    });
  });

  it('tells an unreachable CMS, exit 3', async () => {
    const { code, last } = await probe({
      ...envFor(await simulator()),
      CMS_BASE_URL: `https://127.0.0.1:${await closedPort()}`,
    });
    expect(code).toBe(3);
    expect(last).toMatch(/unreachable/);
  });

  it('tells a certificate from an unknown authority, exit 4, without sending a signature', async () => {
    const cms = await simulator();
    const { code, last } = await probe(envFor(cms, { CMS_CA_FILE: '' }));
    expect(code).toBe(4);
    expect(last).toMatch(/TLS .* refused: unknown certificate authority/);
    expect(cms.requests).toEqual([]);
  });

  it('tells a certificate issued for another host name, exit 4', async () => {
    const cms = await simulator({ certificateHosts: ['cms.example.internal'] });
    const { code, last } = await probe(envFor(cms));
    expect(code).toBe(4);
    expect(last).toMatch(/host name mismatch/);
  });

  it('tells every layout refused, with the clock offset, after at most four signed requests, exit 5', async () => {
    const cms = await simulator();
    const { code, out, last } = await probe(envFor(cms, { CMS_SECRET_KEY: `${SECRET_KEY}-wrong` }));
    expect(code).toBe(5);
    expect(cms.requests).toHaveLength(SIGNATURE_LAYOUT_NAMES.length);
    expect(out).toMatch(/ok +clock +this machine is within a second of CMS/);
    expect(last).toMatch(/refused every signature layout: the access key or secret key is wrong/);
  });

  it('blames the clock when CMS’s Date header is far from this machine’s', async () => {
    const cms = await simulator({ now: () => Date.now() + 20 * 60_000 });
    const { code, out, last } = await probe(envFor(cms));
    expect(code).toBe(5);
    expect(out).toMatch(/FAIL +clock +this machine is 1[12]\d\d\.\d s behind CMS/);
    expect(last).toMatch(/set its clock right/);
  });

  it.each(['0', 'garbage'])(
    'says a Date header %j is unusable instead of blaming the clock',
    async (header) => {
      const cms = await simulator({ dateHeader: () => header });
      const refused = await probe(envFor(cms, { CMS_SECRET_KEY: `${SECRET_KEY}-wrong` }));
      expect(refused.code).toBe(5);
      expect(refused.out).toContain(`FAIL  clock      CMS's Date header "${header}" is not an IMF-fixdate`);
      expect(refused.last).toMatch(
        /the access key or secret key is wrong, or the clock is off \(CMS's Date header/,
      );
      expect(refused.out).not.toMatch(/NTP|set its clock right|behind CMS|ahead of CMS/);
      const accepted = await probe(envFor(cms));
      expect(accepted.code).toBe(0);
      expect(accepted.out).toMatch(/FAIL +clock +CMS's Date header .* the collector skips closing reads/);
    },
  );

  it('says a Date header from another clock than CMS’s windows is unusable for closing reads', async () => {
    const cms = await simulator({ dateHeader: (at) => new Date(at + 20 * 60_000).toUTCString() });
    const { code, out } = await probe(envFor(cms));
    expect(code).toBe(0);
    expect(out).toMatch(/FAIL +clock +CMS's Date header \(.*\) lies outside the window its startTime names/);
  });

  it('tells an IP lock (HTTP 403) and sends nothing after it, exit 6', async () => {
    const cms = await simulator({ lockAfterRefusals: 1 });
    await probe(envFor(cms, { CMS_SECRET_KEY: 'wrong' }));
    const before = cms.requests.length;
    const { code, last } = await probe(envFor(cms));
    expect(code).toBe(6);
    expect(last).toMatch(/locked this IP address/);
    expect(cms.requests.length - before).toBe(1);
  });

  it.each([
    ['0100003', 7, /CTI version/],
    ['0101003', 8, /may not read VDN 170 of call center 1/],
    ['0100999', 9, /result code 0100999/],
  ])(
    'tells result code %s apart, exit %i, and still names the layout that works',
    async (resultCode, exit, text) => {
      const cms = await simulator();
      cms.inject({ kind: 'resultCode', code: resultCode });
      const { code, last } = await probe(envFor(cms));
      expect(code).toBe(exit);
      expect(last).toMatch(text);
      expect(last).toContain('CMS_SIGNATURE=huawei-reference');
    },
  );

  it('keeps control characters of CMS text away from the terminal', async () => {
    const cms = await simulator();
    cms.inject({ kind: 'resultCode', code: '0100001', desc: 'busy\u001b[2J\u0007' });
    const { out } = await probe(envFor(cms));
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u0007');
    expect(out).toContain('busy [2J');
  });

  it.each([
    ['wrongCtiVersion', /result code 0100003 .*CTI V300R008/],
    ['noPermission', /result code 0101003 .*insufficient permission/],
    ['notFound', /HTTP 404 for \/rest\/cmsapp\/v1\/openapi\/skill\/totalskillstatusex3/],
  ] as const)(
    'says on a queue line why a CMS (%s) lacks the live queue, with the exit code unchanged',
    async (liveQueue, why) => {
      const cms = await simulator({ liveQueue });
      const { code, lines, last, out } = await probe(envFor(cms));
      expect(code).toBe(0);
      expect(last).toBe('CMS_SIGNATURE=huawei-reference');
      expect(lines.at(-2)).toMatch(/^FAIL +queue +live queue not available: /);
      expect(lines.at(-2)).toMatch(why);
      expect(lines.at(-2)).toMatch(/the counters work without it$/);
      expect(out).toMatch(/^ok +query /m);
      const json = await probe(envFor(cms), '--json');
      expect(JSON.parse(json.out)).toMatchObject({
        outcome: 'accepted',
        liveQueue: 'unavailable',
        exitCode: 0,
      });
    },
  );

  it('asks about the skills given, by flag', async () => {
    const cms = await simulator();
    const { out } = await probe(envFor(cms), '--vdn', '171', '--skills', '1-3');
    expect(out).toContain('CMS answered 3 of 3 skills of VDN 171 (call center 1)');
  });
});

describe('help', () => {
  it.each([
    [['probe', '--help'], /^usage: cms-skill-metrics probe[\s\S]*Exit codes: 0 CMS accepted/],
    [['query', '--help'], /^usage: cms-skill-metrics query[\s\S]*Exit codes: 0 every skill answered/],
    [['--help'], /^usage: cms-skill-metrics probe[\s\S]*cms-skill-metrics query/],
  ])('prints the usage for %j and exits 0', async (argv, text) => {
    let out = '';
    const code = await runCli(argv, {}, { out: (t) => (out += t), err: () => {} });
    expect(code).toBe(0);
    expect(out).toMatch(text);
  });
});
