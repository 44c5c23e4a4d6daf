import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

/** `npm start` with `--runs N`, and what it prints as it goes. */
function startLocalRun(runs: number, ...flags: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'local/start.ts', '--runs', String(runs), '--interval', '2', ...flags],
    {
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const run = { child, output: '' };
  child.stdout.on('data', (chunk) => {
    run.output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    run.output += chunk;
  });
  return run;
}

/** The URL printed after `label`, once the first collection has run. */
function printedUrl(run: ReturnType<typeof startLocalRun>, label: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const pattern = new RegExp(`${label}: (http:\\/\\/127\\.0\\.0\\.1:\\d+\\S*)`);
    const timer = setInterval(() => {
      const match = pattern.exec(run.output);
      if (match?.[1] && run.output.includes('run 1 at')) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 50);
    run.child.once('exit', () => {
      clearInterval(timer);
      reject(new Error(`npm start exited early:\n${run.output}`));
    });
  });
}

/** `npm start` as an operator runs it: the simulator, the collector wallboard and the query API, no AWS. */
describe('the local run', () => {
  it('shows the wallboard, serves the query API while it runs, and stops cleanly', async () => {
    const run = startLocalRun(2);
    const { child } = run;
    const apiUrl = await printedUrl(run, 'Query API');
    const response = await fetch(`${apiUrl}?skillIds=1-3`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { skills: unknown[] };
    expect(body.skills).toHaveLength(3);
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(run.output).toContain('VDN total');
    expect(run.output).toContain('Health: CollectionSuccess ok');
    expect(run.output).toMatch(/run 2 at .*: 2 VDNs, 12\/13 skills/);
    // The simulated CMS accepts another layout than the first guess: the negotiation shows, then the wallboard.
    expect(run.output).toMatch(
      /run 1 at .*\nsignature: CMS accepted the C2 signature layout empty-query-line-millis after refusing 1; set CMS_SIGNATURE=empty-query-line-millis to pin it/,
    );
  });

  it('serves the dashboard wallboard as a self-refreshing page while it runs', async () => {
    const run = startLocalRun(2);
    const wallboardUrl = await printedUrl(run, 'Wallboard');
    expect(wallboardUrl).toMatch(/\/wallboard\?ccId=1&vdn=170$/);
    const response = await fetch(wallboardUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    expect(page).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect([...page.matchAll(/<tr data-skill="(\d+)"/g)].map((match) => Number(match[1])).sort()).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(page).toContain('Not returned by CMS: skill 8.');
    expect(page).toContain('data-health="amber"');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
  });

  it('with --otlp exports every busy skill over OTLP to a local receiver and shows what arrived', async () => {
    const run = startLocalRun(1, '--otlp');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
    const counts =
      /OTLP: (\d+)\/(\d+) datapoints accepted by the local receiver at http:\/\/127\.0\.0\.1:\d+\/v1\/metrics/.exec(
        run.output,
      );
    expect(Number(counts?.[1])).toBeGreaterThan(0);
    expect(counts?.[1]).toBe(counts?.[2]);
    expect(run.output).toMatch(/cec_calls_offered\{cc_id="1",vdn="170",skill_id="\d+"\} \d+/);
  });
});
