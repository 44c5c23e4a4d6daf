import { parseArgs } from 'node:util';
import { type CallStatsResult, CmsClient } from '../cms/client.js';
import { staticCredentials } from '../cms/credentials.js';
import { type Env, loadCmsSettings } from '../config.js';
import { AppError, ConfigError, ValidationError } from '../errors.js';
import { ALL_METRICS, buildDatums } from '../metrics/datums.js';
import { renderWallboard } from '../metrics/stdout.js';
import { CMS_LIMITS } from '../model.js';
import { buildReport } from '../report.js';
import { formatSkillList, parseSkillList } from '../skills.js';
import { cleanText } from '../text.js';

const MAX_MESSAGE_CHARS = 1_000;

const USAGE = 'usage: cms-skill-metrics query --skills 1-20,35 [--cc-id N] [--vdn N] [--json]';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/**
 * Exit codes: 0 every skill answered; 1 CMS failed or left out skills (for some or all of them); 2 bad flags or
 * configuration.
 */
export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  let request: QueryRequest;
  try {
    request = parseQueryRequest(argv, env);
  } catch (error) {
    if (error instanceof AppError || error instanceof TypeError) {
      io.err(`cms-skill-metrics: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  const client = new CmsClient({
    ...request.cms,
    credentials: staticCredentials({ accessKey: request.accessKey, secretKey: request.secretKey }),
  });
  try {
    const started = Date.now();
    const result = await client.currentCallStats(request.query, {
      deadline: started + request.cms.requestTimeoutMs * request.cms.maxAttempts + 2_000,
    });
    const problem = problemOf(result);
    if (request.json) {
      const report = buildReport(result);
      io.out(`${JSON.stringify(problem ? { ...report, error: problem } : report, null, 2)}\n`);
    } else {
      const outcome = {
        ...result,
        succeeded: result.failures.length === 0,
        slowestBatchMs: result.slowestBatchMs,
      };
      io.out(renderWallboard(buildDatums([outcome], { now: Date.now(), selection: ALL_METRICS })));
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
function problemOf(result: CallStatsResult): { code: string; message: string } | undefined {
  const [failure] = result.failures;
  if (failure) {
    const skills = formatSkillList(result.failures.flatMap((each) => each.skillIds));
    return {
      code: failure.error.code,
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

interface QueryRequest {
  readonly cms: ReturnType<typeof loadCmsSettings>;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly query: { ccId: number; vdn: number; skillIds: number[] };
  readonly json: boolean;
}

function parseQueryRequest(argv: readonly string[], env: Env): QueryRequest {
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
  if (positionals.length !== 1 || positionals[0] !== 'query') {
    throw new ValidationError(
      'command',
      positionals.length === 0
        ? 'missing (expected "query")'
        : `unknown "${positionals.join(' ')}" (expected "query")`,
    );
  }
  const skillText = values.skills ?? env.SKILL_IDS;
  if (!skillText) throw new ValidationError('--skills', 'is required (e.g. --skills 1-20,35)');
  let skillIds: number[];
  try {
    skillIds = parseSkillList(skillText);
  } catch (error) {
    throw new ValidationError('--skills', (error as Error).message);
  }
  const cms = loadCmsSettings(env);
  const secret = (variable: string): string => {
    const value = env[variable];
    if (!value) throw new ConfigError(variable, 'is required');
    return value;
  };
  return {
    cms,
    accessKey: secret('CMS_ACCESS_KEY'),
    secretKey: secret('CMS_SECRET_KEY'),
    query: {
      ccId: intFrom(values['cc-id'], '--cc-id', env.CC_ID, 'CC_ID', CMS_LIMITS.ccId),
      vdn: intFrom(values.vdn, '--vdn', env.VDN, 'VDN', CMS_LIMITS.vdn),
      skillIds,
    },
    json: values.json,
  };
}

/** A flag wins over its environment variable; the error names whichever was given. */
function intFrom(
  flag: string | undefined,
  flagName: string,
  envValue: string | undefined,
  variable: string,
  range: { readonly min: number; readonly max: number },
): number {
  const [raw, fail] =
    flag !== undefined
      ? [flag, (detail: string) => new ValidationError(flagName, detail)]
      : [envValue, (detail: string) => new ConfigError(variable, detail)];
  if (raw === undefined || raw.trim() === '') throw fail(`is required (${flagName} or ${variable})`);
  if (!/^\d+$/.test(raw.trim())) throw fail(`must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < range.min || value > range.max)
    throw fail(`must be between ${range.min} and ${range.max}, got ${value}`);
  return value;
}
