import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

/** `npm start` as an operator runs it: the simulator, the collector wallboard and the query API, no AWS. */
describe('the local run', () => {
  it('shows the wallboard, serves the query API while it runs, and stops cleanly', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/start.ts', '--runs', '2', '--interval', '2'],
      {
        env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const apiUrl = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /Query API: (http:\/\/127\.0\.0\.1:\d+\S*)/.exec(output);
        if (match?.[1] && output.includes('run 1 at')) {
          clearInterval(timer);
          resolve(match[1]);
        }
      }, 50);
      child.once('exit', () => {
        clearInterval(timer);
        reject(new Error(`npm start exited early:\n${output}`));
      });
    });
    const response = await fetch(`${apiUrl}?skillIds=1-3`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { skills: unknown[] };
    expect(body.skills).toHaveLength(3);
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(output).toContain('VDN total');
    expect(output).toContain('Health: CollectionSuccess ok');
    expect(output).toMatch(/run 2 at .*: 2 VDNs, 12\/13 skills/);
    // The simulated CMS accepts another layout than the first guess: the negotiation shows, then the wallboard.
    expect(output).toMatch(
      /run 1 at .*\nsignature: CMS accepted the C2 signature layout empty-query-line-millis after refusing 1; set CMS_SIGNATURE=empty-query-line-millis to pin it/,
    );
  });
});
