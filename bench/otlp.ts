import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import { OtlpExporter } from '../lib/metrics/otlp-sink.js';
import { worldCloudWatch, worldCredentials } from '../test/support/world.js';
import { quietLog } from './quiet-log.js';
import type { Figure } from './report.js';
import type { BenchServers } from './servers-client.js';
import { median } from './stats.js';

/**
 * What the OpenTelemetry export costs the collector: the real handler for one VDN of 5,000 skills, run with the
 * default selection with OTLP off (two classic counters per skill) and on (every counter of every busy skill
 * over OTLP, none per skill in CloudWatch), and OTLP off with the same classic work as on (roll-ups only), which
 * isolates what the export itself costs; in turns, against the bench's CMS simulator and fake AWS endpoint and
 * an OTLP receiver in this process that answers after the same latency as AWS. Most runs send nothing (each
 * window's totals go out with its closing read); every run here sends every counter of every busy skill, as a
 * closing read does, which is the export's largest run.
 */

export interface OtlpBenchResult {
  readonly skills: number;
  readonly off: readonly RunSample[];
  readonly rollupsOnly: readonly RunSample[];
  readonly on: readonly RunSample[];
  /** Datapoints and protobuf bytes of one run with OTLP on. */
  readonly otlpPoints: number;
  readonly otlpBytes: number;
}

interface RunSample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** A receiver that reads each request whole and answers an empty success after `latencyMs`. */
async function startSilentReceiver(latencyMs: number) {
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () =>
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(), latencyMs),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export async function runOtlpBench(
  servers: BenchServers,
  options: { readonly skills: number; readonly runs: number; readonly awsLatencyMs: number },
): Promise<OtlpBenchResult> {
  const receiver = await startSilentReceiver(options.awsLatencyMs);
  try {
    const exporter = new OtlpExporter({ endpoint: new URL(receiver.url) });
    const everyCounter = {
      export: (...[reads, options]: Parameters<OtlpExporter['export']>) =>
        exporter.export(reads, { ...options, closing: true }),
    };
    const handler = (otlp: boolean, extra: Record<string, string> = {}) =>
      createCollectorHandler(
        {
          CMS_BASE_URL: servers.cmsUrl,
          CC_ID: '1',
          VDN: '1',
          SKILL_IDS: `1-${options.skills}`,
          CLOSING_READ_REACH_SECONDS: '0',
          ...(otlp ? { OTLP_ENDPOINT: receiver.url } : {}),
          ...extra,
        },
        {
          credentials: worldCredentials(servers),
          cloudWatch: worldCloudWatch(servers),
          log: quietLog(),
          ...(otlp ? { otlp: everyCounter } : {}),
        },
      );
    const handlers = {
      off: handler(false),
      rollupsOnly: handler(false, { SKILL_METRICS: 'none' }),
      on: handler(true),
    };
    const samples: Record<keyof typeof handlers, RunSample[]> = { off: [], rollupsOnly: [], on: [] };
    let otlpPoints = 0;
    let otlpBytes = 0;
    const context = { getRemainingTimeInMillis: () => 60_000 };
    // One cold run each (TLS, signature negotiation), then alternate warm runs.
    for (const warm of Object.values(handlers)) await warm({}, context);
    for (let run = 0; run < options.runs; run += 1) {
      for (const mode of ['off', 'rollupsOnly', 'on'] as const) {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const summary = await handlers[mode]({}, context);
        const used = process.cpuUsage(cpu);
        samples[mode].push({ wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1_000 });
        if (summary.otlp) {
          otlpPoints = summary.otlp.points;
          otlpBytes = summary.otlp.bytes;
        }
      }
    }
    return { skills: options.skills, ...samples, otlpPoints, otlpBytes };
  } finally {
    await receiver.close();
  }
}

export function otlpFigures(result: OtlpBenchResult): Figure[] {
  const wall = (samples: readonly RunSample[]) => median(samples.map((sample) => sample.wallMs));
  const cpu = (samples: readonly RunSample[]) => median(samples.map((sample) => sample.cpuMs));
  const skills = result.skills.toLocaleString('en');
  return [
    {
      id: 'otlp.wallRatio',
      label: `${skills} skills, defaults: collector wall time with OTLP on / off (${wall(result.on).toFixed(0)} ms vs ${wall(result.off).toFixed(0)} ms)`,
      value: wall(result.on) / wall(result.off),
      unit: '×',
      note: `OTLP on: ${result.otlpPoints.toLocaleString('en')} datapoints, ${(result.otlpBytes / 1024).toFixed(0)} KiB of protobuf per run`,
    },
    {
      id: 'otlp.cpuRatio',
      label: `${skills} skills, defaults: collector CPU with OTLP on / off (${cpu(result.on).toFixed(0)} ms vs ${cpu(result.off).toFixed(0)} ms)`,
      value: cpu(result.on) / cpu(result.off),
      unit: '×',
    },
    {
      id: 'otlp.exportCpuMs',
      label: `${skills} skills: CPU of the OTLP export itself (on vs off with the same classic work, ${cpu(result.on).toFixed(0)} ms vs ${cpu(result.rollupsOnly).toFixed(0)} ms)`,
      value: cpu(result.on) - cpu(result.rollupsOnly),
      unit: 'ms',
      note: `wall time ${wall(result.on).toFixed(0)} ms vs ${wall(result.rollupsOnly).toFixed(0)} ms`,
    },
  ];
}
