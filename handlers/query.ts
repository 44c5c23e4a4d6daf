import { createQueryHandler } from '../lib/lambda/query.js';

/** API Gateway (HTTP API, payload 2.0) → CMS → JSON. Configuration is validated here, at cold start. */
export const handler = createQueryHandler(process.env);
