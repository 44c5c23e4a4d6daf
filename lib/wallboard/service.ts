import { errorAnswer } from '../api/errors.js';
import { resolveTarget, type StatsLookup } from '../api/stats.js';
import { invocationDeadline } from '../deadline.js';
import { ForbiddenError } from '../errors.js';
import { describeError, type Log } from '../log.js';
import { CMS_LIMITS, type Target } from '../model.js';
import { type HealthReading, renderProblem, renderWallboard, type StatsOutcome } from './render.js';
import type { ThresholdBook } from './thresholds.js';
import { startOfLocalDay } from './time-zone.js';
import type { TodaySource } from './today.js';
import { WIDGET_DOCS, type WidgetRequest, widgetRequestOf } from './widget.js';

/** The collector's health metrics of one VDN, as recently published; never throws (unavailable is a reading). */
export interface HealthSource {
  read(vdn: { readonly ccId: number; readonly vdn: number }, deadline: number): Promise<HealthReading>;
}

export interface WallboardConfig {
  readonly targets: readonly Target[];
  readonly thresholds: ThresholdBook;
  /** Skills listed when the widget does not say (WALLBOARD_MAX_ROWS). */
  readonly maxRows: number;
  /** QUERY_TIMEOUT_MS: the most one rendering spends on CMS. */
  readonly timeoutMs: number;
  /** TIME_ZONE: the contact centre's IANA zone, whose midnight starts the day. */
  readonly timeZone: string;
}

export interface WallboardDeps {
  /** The query API's cached lookup: the wallboard asks CMS nothing the cache can answer. */
  readonly stats: StatsLookup;
  readonly health: HealthSource;
  /** The VDN's day so far, read back from its roll-up series only. */
  readonly today: TodaySource;
  readonly log: Log;
  readonly now: () => number;
}

/** What Lambda tells about one invocation: its time left, and the id its log lines carry. */
interface Invocation {
  readonly remainingMs: number;
  readonly requestId?: string | undefined;
}

/** A custom-widget event in, the widget's HTML (or its Markdown documentation) out. */
export type Wallboard = (event: unknown, invocation: Invocation) => Promise<string>;

/**
 * What a widget sees when it asks for a VDN this function does not serve. Each tenant has a function of its own,
 * so such a widget is someone else's: the panel names no VDN, not even the one asked for, and nothing about that
 * VDN has been read.
 */
const NOT_SERVED = {
  title: 'Not served here',
  message:
    'This wallboard does not show the VDN this widget asks for: use the wallboard function of its tenant.',
};

/**
 * Renders the wallboard for a widget event. Whatever happens the answer is HTML: CMS failing is a panel that
 * says so, bad parameters are a panel naming the problem, a VDN this function does not serve is a panel that
 * says only that, and only the public messages of lib/api/errors.ts ever reach it.
 */
export function createWallboard(config: WallboardConfig, deps: WallboardDeps): Wallboard {
  async function render(request: Extract<WidgetRequest, { describe: false }>, invocation: Invocation) {
    const { requestId } = invocation;
    const { ccId, vdn, maxRows } = request.params;
    // A widget cannot name skills: it lists the VDN's configured ones, however many (CMS is read in batches).
    const target = resolveTarget({ ccId, vdn }, config.targets, { maxSkills: CMS_LIMITS.skillId.max });
    const deadline = invocationDeadline(invocation.remainingMs, Date.now(), config.timeoutMs);
    const since = startOfLocalDay(config.timeZone, deps.now());
    const [outcome, health, today] = await Promise.all([
      deps.stats.get(target, deadline).then(
        ({ value, source }): { outcome: StatsOutcome; source: string; liveQueue: string | undefined } => ({
          outcome: { kind: 'stats', answer: value.answer },
          source,
          liveQueue: value.liveQueue,
        }),
        (error: unknown) => {
          deps.log.error('wallboard: CMS could not be read', {
            requestId,
            ccId: target.ccId,
            vdn: target.vdn,
            error: describeError(error),
          });
          const { code, message } = errorAnswer(error, requestId).body.error;
          return {
            outcome: { kind: 'failed', code, message, requestId } as StatsOutcome,
            source: 'failed',
            liveQueue: undefined,
          };
        },
      ),
      deps.health.read(target, deadline),
      deps.today.read(target, since, deadline),
    ]);
    deps.log.info('wallboard rendered', {
      requestId,
      ccId: target.ccId,
      vdn: target.vdn,
      cache: outcome.source,
      liveQueue: outcome.liveQueue,
      health: health.kind,
      today: today.kind,
    });
    return renderWallboard({
      ccId: target.ccId,
      vdn: target.vdn,
      outcome: outcome.outcome,
      health,
      today: { reading: today, timeZone: config.timeZone },
      thresholds: config.thresholds,
      maxRows: maxRows ?? config.maxRows,
      now: deps.now(),
      timeZone: request.timeZone,
    });
  }

  return async (event, invocation) => {
    const { requestId } = invocation;
    try {
      const request = widgetRequestOf(event);
      if (request.describe) return WIDGET_DOCS;
      return await render(request, invocation);
    } catch (error) {
      if (error instanceof ForbiddenError) {
        // The operator's log keeps what was asked for: a widget pointed at the wrong tenant, or someone probing.
        deps.log.info('wallboard: VDN not served here', { requestId, error: describeError(error) });
        return renderProblem(NOT_SERVED.title, NOT_SERVED.message, requestId);
      }
      const answer = errorAnswer(error, requestId);
      if (answer.blame === 'caller') {
        deps.log.info('wallboard: widget refused', { requestId, error: describeError(error) });
        return renderProblem('This widget is not set up right', answer.body.error.message, requestId);
      }
      deps.log.error('wallboard failed', { requestId, error: describeError(error) });
      return renderProblem('The wallboard could not be drawn', answer.body.error.message, requestId);
    }
  };
}
