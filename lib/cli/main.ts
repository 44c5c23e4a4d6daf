import { parseArgs } from 'node:util';
import { buildReport } from '../api/report.js';
import { CmsClient } from '../cms/client.js';
import { staticCredentials } from '../cms/credentials.js';
import { PROBE_EXIT_CODES, probeCms } from '../cms/probe.js';
import { SIGNATURE_LAYOUT_NAMES } from '../cms/sign.js';
import type { VdnRead } from '../cms/vdn-read.js';
import type { Env } from '../config/rules.js';
import { AppError, ValidationError } from '../errors.js';
import { describeError } from '../log.js';
import { formatSkillList } from '../skills.js';
import { cleanText } from '../text.js';
import { type CliConfig, loadCliConfig } from './config.js';
import { renderReport } from './table.js';

const MAX_MESSAGE_CHARS = 1_000;

const USAGE = `usage: cms-skill-metrics probe [--cc-id N] [--vdn N] [--skills LIST] [--json]
       cms-skill-metrics query --skills LIST [--cc-id N] [--vdn N] [--json]
       cms-skill-metrics <command> --help`;

const SHARED_HELP = `Environment: CMS_BASE_URL (https://host:port), CMS_ACCESS_KEY, CMS_SECRET_KEY, CMS_CA_FILE (PEM of a
private CA, optional), CMS_TIMEOUT_MS, CC_ID / VDN / SKILL_IDS (defaults for the flags).`;

const HELP: Readonly<Record<Command, string>> = {
  probe: `usage: cms-skill-metrics probe [--cc-id N] [--vdn N] [--skills LIST] [--json]

The first command to run against a real CMS. Checks, one line each: TCP to CMS_BASE_URL; TLS (certificate
chain, host name, which CA trusts it); then at most ${SIGNATURE_LAYOUT_NAMES.length} signed requests, one per C2 signature layout in the
order ${SIGNATURE_LAYOUT_NAMES.join(', ')}, stopping at the first CMS accepts; the offset
between this machine's clock and CMS's; what CMS answered for the skills asked (default: skill 1); and, with the
layout CMS accepted, one more request for the live queue (a "queue" line: available, or why not). The last
line is the CMS_SIGNATURE setting to deploy with, or what to fix.

Exit codes: 0 CMS accepted a layout and answered; 2 bad flags or configuration; 3 CMS unreachable; 4 TLS
refused; 5 every signature layout refused (key pair or clock); 6 CMS has locked this IP (HTTP 403);
7 wrong CTI version (0100003); 8 permission denied (0101003); 9 any other refusal or unexpected answer. A CMS
without the live queue changes no exit code: the product serves the counters without it.
--json prints one JSON document instead, with the same exit code.

${SHARED_HELP}`,
  query: `usage: cms-skill-metrics query --skills LIST [--cc-id N] [--vdn N] [--json]

Reads the current 5-minute counters and the live queue (calls waiting, longest wait, agents available / logged
on) of the skills (LIST: 1-20,35) of one VDN and prints a table per skill with the KPIs, or one JSON document
with --json (a skill's "queue" is null when CMS lacks the live queue). Signs in the layout CMS_SIGNATURE names
(default auto: the client finds it, within CMS_REFUSAL_LIMIT refused signatures, default 4).

Exit codes: 0 every skill answered; 1 CMS failed for some or all skills, or did not return some of them (a
line per missing skill; --json carries an error field); 2 bad flags or configuration.

${SHARED_HELP} CMS_SIGNATURE (auto or a layout).`,
};

type Command = 'probe' | 'query';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Exit codes: see HELP; 2 is always bad flags or configuration. */
export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  const command = argv.find((arg) => !arg.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${command === 'probe' || command === 'query' ? HELP[command] : USAGE}\n`);
    return 0;
  }
  try {
    if (command === 'probe') return await runProbe(parseProbeRequest(argv, env), io);
    return await runQuery(parseQueryRequest(argv, env), io);
  } catch (error) {
    if (error instanceof AppError || error instanceof TypeError) {
      io.err(`cms-skill-metrics: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

async function runProbe(request: QueryRequest, io: CliIo): Promise<number> {
  const report = await probeCms({
    baseUrl: request.cms.baseUrl,
    caCertificate: request.cms.caCertificate,
    credentials: { accessKey: request.accessKey, secretKey: request.secretKey },
    query: request.query,
    timeoutMs: request.cms.requestTimeoutMs,
    maxResponseBytes: MAX_PROBE_RESPONSE_BYTES,
  });
  const exitCode = PROBE_EXIT_CODES[report.outcome];
  if (request.json) {
    io.out(`${JSON.stringify({ ...report, exitCode }, null, 2)}\n`);
  } else {
    for (const finding of report.findings) {
      io.out(`${finding.ok ? 'ok  ' : 'FAIL'}  ${finding.step.padEnd(9)}  ${terminalSafe(finding.detail)}\n`);
    }
    io.out(`${terminalSafe(report.conclusion)}\n`);
  }
  return exitCode;
}

/** CMS text reaches the terminal: control characters could move the cursor or rewrite what was printed. */
function terminalSafe(text: string): string {
  return cleanText(text, MAX_MESSAGE_CHARS);
}

async function runQuery(request: QueryRequest, io: CliIo): Promise<number> {
  const client = new CmsClient({
    ...request.cms,
    credentials: staticCredentials({ accessKey: request.accessKey, secretKey: request.secretKey }),
    log: {
      debug: () => {},
      warn: (message) => io.err(`cms-skill-metrics: note: ${message}\n`),
    },
  });
  try {
    const started = Date.now();
    const result = await client.currentCallStats(request.query, {
      deadline: started + request.cms.requestTimeoutMs * request.cms.maxAttempts + 2_000,
      liveQueue: true,
    });
    const queue = result.liveQueue;
    const problem = problemOf(result);
    const report = buildReport(result);
    // Every skill CMS returned, idle ones too: this is the check that the configured skills exist.
    if (request.json)
      io.out(`${JSON.stringify(problem ? { ...report, error: problem } : report, null, 2)}\n`);
    else io.out(renderReport(report));
    // A CMS without the live queue says so once through the client's log; a failed read of it is said here.
    if (queue?.kind === 'failed') {
      io.err(
        `cms-skill-metrics: note: live queue not read: ${cleanText(queue.error.message, MAX_MESSAGE_CHARS)}\n`,
      );
    }
    for (const failure of result.failures) {
      // The message may quote CMS: cleaned, so that no escape sequence of CMS's reaches the terminal.
      const message = cleanText(failure.error.message, MAX_MESSAGE_CHARS);
      io.err(`cms-skill-metrics: skills ${formatSkillList(failure.skillIds)}: ${message}\n`);
    }
    // A skill CMS does not return is most often a wrong --vdn or --skills: a check before deploying must fail.
    for (const skillId of result.missingSkillIds) {
      io.err(
        `cms-skill-metrics: skill ${skillId}: CMS did not return it (not a skill of VDN ${result.vdn} of call center ${result.ccId}?)\n`,
      );
    }
    return problem ? 1 : 0;
  } finally {
    client.close();
  }
}

/** What kept the answer from being complete, for `--json` readers; undefined when every skill was answered. */
function problemOf(result: VdnRead): { code: string; message: string } | undefined {
  const [failure] = result.failures;
  if (failure) {
    const skills = formatSkillList(result.failures.flatMap((each) => each.skillIds));
    return {
      code: describeError(failure.error).code ?? failure.error.name,
      message: `CMS failed for skills ${skills}: ${cleanText(failure.error.message, MAX_MESSAGE_CHARS)}`,
    };
  }
  if (result.missingSkillIds.length > 0) {
    return {
      code: 'SKILLS_MISSING',
      message: `CMS did not return skills ${formatSkillList(result.missingSkillIds)}`,
    };
  }
  return undefined;
}

/** A probe reads at most one answer per layout; far more than any answer for a handful of skills. */
const MAX_PROBE_RESPONSE_BYTES = 4 * 1024 * 1024;

function parseProbeRequest(argv: readonly string[], env: Env): QueryRequest {
  const { values } = parseCommand(argv, 'probe');
  return { ...loadCliConfig(values, env, DEFAULT_PROBE_SKILLS), json: values.json };
}

/** Any one skill makes a valid signed request; whether it exists only changes how many skills come back. */
const DEFAULT_PROBE_SKILLS = '1';

interface QueryRequest extends CliConfig {
  readonly json: boolean;
}

function parseQueryRequest(argv: readonly string[], env: Env): QueryRequest {
  const { values } = parseCommand(argv, 'query');
  return { ...loadCliConfig(values, env), json: values.json };
}

function parseCommand(argv: readonly string[], expected: Command) {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      skills: { type: 'string' },
      'cc-id': { type: 'string' },
      vdn: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== expected) {
    throw new ValidationError(
      'command',
      positionals.length === 0
        ? 'missing (expected "probe" or "query")'
        : `unknown "${positionals.join(' ')}" (expected "probe" or "query")`,
    );
  }
  return { values };
}
