import { createCollectorHandler } from '../lib/lambda/collector.js';

/** EventBridge schedule → CMS → KPIs → CloudWatch. Configuration is validated here, at cold start. */
export const handler = createCollectorHandler(process.env);
