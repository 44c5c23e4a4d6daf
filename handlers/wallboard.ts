import { createWallboardHandler } from '../lib/lambda/wallboard.js';

/** CloudWatch dashboard custom widget → CMS (through the query cache) → HTML. Configuration checked at cold start. */
export const handler = createWallboardHandler(process.env);
