import { errorAnswer } from '../api/errors.js';
import { requestDeadline, type StatsLookup } from '../api/stats.js';
import { resolveTarget } from '../api/target.js';
import { describeError, type Log } from '../log.js';
import type { Target } from '../model.js';
import { type HealthReading, renderProblem, renderWallboard, type StatsOutcome } from './render.js';
import type { ThresholdBook } from './thresholds.js';
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
}

export interface WallboardDeps {
  /** The query API's cached lookup: the wallboard asks CMS nothing the cache can answer. */
  readonly stats: StatsLookup;
  readonly health: HealthSource;
  readonly log: Log;
  readonly now: () => number;
}

/** A custom-widget event in, the widget's HTML (or its Markdown documentation) out. */
export type Wallboard = (event: unknown, remainingMs: number) => Promise<string>;

/**
 * Renders the wallboard for a widget event. Whatever happens the answer is HTML: CMS failing is a panel that
 * says so, bad parameters or a VDN this deployment does not serve are a panel naming the problem, and only
 * the public messages of lib/api/errors.ts ever reach it.
 */
export function createWallboard(config: WallboardConfig, deps: WallboardDeps): Wallboard {
  async function render(request: Extract<WidgetRequest, { describe: false }>, remainingMs: number) {
    const { ccId, vdn, maxRows } = request.params;
    const target = resolveTarget(
      { ...(ccId === undefined ? {} : { ccId }), ...(vdn === undefined ? {} : { vdn }) },
      config.targets,
    );
    const deadline = requestDeadline(remainingMs, config.timeoutMs);
    const [outcome, health] = await Promise.all([
      deps.stats.get(target, deadline).then(
        ({ value, source }): { outcome: StatsOutcome; source: string } => ({
          outcome: { kind: 'stats', answer: value.answer },
          source,
        }),
        (error: unknown) => {
          deps.log.error('wallboard: CMS could not be read', {
            ccId: target.ccId,
            vdn: target.vdn,
            error: describeError(error),
          });
          const { code, message } = errorAnswer(error).body.error;
          return { outcome: { kind: 'failed', code, message } as StatsOutcome, source: 'failed' };
        },
      ),
      deps.health.read(target, deadline),
    ]);
    deps.log.info('wallboard rendered', {
      ccId: target.ccId,
      vdn: target.vdn,
      cache: outcome.source,
      health: health.kind,
    });
    return renderWallboard({
      ccId: target.ccId,
      vdn: target.vdn,
      outcome: outcome.outcome,
      health,
      thresholds: config.thresholds,
      maxRows: maxRows ?? config.maxRows,
      now: deps.now(),
      timeZone: request.timeZone,
    });
  }

  return async (event, remainingMs) => {
    try {
      const request = widgetRequestOf(event);
      if (request.describe) return WIDGET_DOCS;
      return await render(request, remainingMs);
    } catch (error) {
      const answer = errorAnswer(error);
      if (answer.blame === 'caller') {
        deps.log.info('wallboard: widget refused', { error: describeError(error) });
        return renderProblem('This widget is not set up right', answer.body.error.message);
      }
      deps.log.error('wallboard failed', { error: describeError(error) });
      return renderProblem('The wallboard could not be drawn', answer.body.error.message);
    }
  };
}
