import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SIGNATURE_LAYOUT_NAMES } from '../lib/cms/sign.js';
import { parseWholeNumber } from '../lib/validation.js';
import { LIVE_QUEUE_MODES, startCmsSimulator } from './simulator/index.js';

/**
 * Runs the CMS simulator in the foreground for manual work with the CLI:
 *   npm run simulator -- [--signature LAYOUT] [--lock-after N] [--live-queue MODE]
 * (SIM_PORT=28443 for a fixed port, SIM_SEED for other traffic), then paste the printed exports into the shell
 * that runs the CLI. `--signature` is the one C2 layout it accepts (default huawei-reference); `--lock-after`
 * locks the caller out with HTTP 403 after that many refused signatures (default: never); `--live-queue` plays a
 * CMS without the live queue: wrongCtiVersion (0100003, CTI 3.6), noPermission (0101003) or notFound (HTTP 404)
 * (default served).
 */

const USAGE =
  `usage: npm run simulator -- [--signature ${SIGNATURE_LAYOUT_NAMES.join('|')}] [--lock-after N] ` +
  `[--live-queue ${LIVE_QUEUE_MODES.join('|')}]`;

function parseFlags() {
  const { values } = parseArgs({
    options: {
      signature: { type: 'string', default: 'huawei-reference' },
      'lock-after': { type: 'string' },
      'live-queue': { type: 'string', default: 'served' },
    },
  });
  const signatureLayout = SIGNATURE_LAYOUT_NAMES.find((name) => name === values.signature);
  if (signatureLayout === undefined)
    throw new RangeError(`--signature: unknown layout "${values.signature}"\n${USAGE}`);
  const liveQueue = LIVE_QUEUE_MODES.find((mode) => mode === values['live-queue']);
  if (liveQueue === undefined)
    throw new RangeError(`--live-queue: unknown mode "${values['live-queue']}"\n${USAGE}`);
  const lockAfter = values['lock-after'];
  return {
    signatureLayout,
    liveQueue,
    lockAfterRefusals:
      lockAfter === undefined
        ? undefined
        : wholeNumber('--lock-after', lockAfter, 1, Number.MAX_SAFE_INTEGER),
  };
}

/** A flag's or variable's whole number; a RangeError naming it, with the usage line, on anything else. */
function wholeNumber(name: string, text: string, min: number, max: number): number {
  try {
    return parseWholeNumber(text, { min, max });
  } catch (error) {
    throw new RangeError(`${name}: ${(error as Error).message}\n${USAGE}`);
  }
}

function integerFromEnvironment(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : wholeNumber(name, raw, 0, max);
}

/** POSIX single-quoting, so values with spaces or quotes survive being pasted into a shell. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

async function main(): Promise<void> {
  const accessKey = process.env.SIM_ACCESS_KEY || 'sim-access-key';
  const secretKey = process.env.SIM_SECRET_KEY || 'sim-secret-key';
  const flags = parseFlags();
  const simulator = await startCmsSimulator({
    ...flags,
    accessKey,
    secretKey,
    port: integerFromEnvironment('SIM_PORT', 0, 65_535),
    seed: integerFromEnvironment('SIM_SEED', 1, Number.MAX_SAFE_INTEGER),
    // Nobody reads the log of a long-running simulator; keeping it bounded keeps its memory flat.
    maxRecordedRequests: 1_000,
  });
  const directory = await mkdtemp(join(tmpdir(), 'cms-simulator-'));
  const caFile = join(directory, 'ca.pem');
  await writeFile(caFile, simulator.caCertificate, { mode: 0o600 });

  // These are the simulator's own throw-away credentials, printed on purpose so the CLI can be pointed at it.
  process.stdout.write(
    [
      `# CMS simulator listening on ${simulator.url} (Ctrl-C to stop)`,
      `# accepts the C2 signature layout ${flags.signatureLayout}${
        flags.lockAfterRefusals === undefined
          ? ''
          : `; locks the caller after ${flags.lockAfterRefusals} refused signatures`
      }${flags.liveQueue === 'served' ? '' : `; answers the live queue as a CMS without it (${flags.liveQueue})`}`,
      `export CMS_BASE_URL=${shellQuote(simulator.url)}`,
      `export CMS_ACCESS_KEY=${shellQuote(accessKey)}`,
      `export CMS_SECRET_KEY=${shellQuote(secretKey)}`,
      `export CMS_CA_FILE=${shellQuote(caFile)}`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`# ${signal}: stopping the CMS simulator\n`);
    await simulator.close();
    await rm(directory, { recursive: true, force: true });
  };
  process.once('SIGINT', (signal) => void stop(signal));
  process.once('SIGTERM', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `CMS simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
