import type { CmsSettings } from '../cms/client.js';
import { loadCmsSettings } from '../cms/settings.js';
import { deepFreeze, type Env, read, readSetting, variable, wholeNumber } from '../config/rules.js';
import { ConfigError, ValidationError } from '../errors.js';
import { CMS_LIMITS } from '../model.js';
import { parseSkillList } from '../skills.js';
import { parseWholeNumber } from '../validation.js';

// The CLI's configuration: the CMS settings and key pair from the environment, the VDN and skills from flags or
// the environment (a flag wins, and its problems name the flag).

/** The target variables, each optional here since a flag may stand in for it. */
const CLI_RULES = {
  CC_ID: wholeNumber(CMS_LIMITS.ccId.min, CMS_LIMITS.ccId.max, undefined),
  VDN: wholeNumber(CMS_LIMITS.vdn.min, CMS_LIMITS.vdn.max, undefined),
  SKILL_IDS: variable(parseSkillList, undefined),
};

/** The CLI's flags that stand in for a variable: given, the flag wins and its problems name the flag. */
interface CliFlags {
  readonly skills?: string | undefined;
  readonly 'cc-id'?: string | undefined;
  readonly vdn?: string | undefined;
}

export interface CliConfig {
  readonly cms: CmsSettings;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly query: { readonly ccId: number; readonly vdn: number; readonly skillIds: readonly number[] };
}

/** The CLI's configuration: CMS settings and key pair from the environment, the VDN and skills from flags or it. */
export function loadCliConfig(flags: CliFlags, env: Env, defaultSkills?: string): CliConfig {
  const { skills } = flags;
  const skillIds =
    skills === undefined
      ? (readSetting(env, 'SKILL_IDS', CLI_RULES.SKILL_IDS) ??
        (defaultSkills && parseSkillList(defaultSkills)))
      : fromFlag('--skills', () => parseSkillList(skills));
  if (!skillIds) throw new ValidationError('--skills', 'is required (e.g. --skills 1-20,35)');
  const cms = loadCmsSettings(env);
  const keys = read(env, {
    CMS_ACCESS_KEY: variable((text) => text),
    CMS_SECRET_KEY: variable((text) => text),
  });
  const id = (flag: string, text: string | undefined, name: 'CC_ID' | 'VDN', range: Range): number => {
    if (text !== undefined) return fromFlag(flag, () => parseWholeNumber(text, range));
    const value = readSetting(env, name, CLI_RULES[name]);
    if (value === undefined) throw new ConfigError(name, `is required (${flag} or ${name})`);
    return value;
  };
  return deepFreeze({
    cms,
    accessKey: keys.CMS_ACCESS_KEY,
    secretKey: keys.CMS_SECRET_KEY,
    query: {
      ccId: id('--cc-id', flags['cc-id'], 'CC_ID', CMS_LIMITS.ccId),
      vdn: id('--vdn', flags.vdn, 'VDN', CMS_LIMITS.vdn),
      skillIds,
    },
  });
}

type Range = { readonly min: number; readonly max: number };

/** A flag's value, its problem reported under the flag's name. */
function fromFlag<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ValidationError(flag, (error as Error).message);
  }
}
