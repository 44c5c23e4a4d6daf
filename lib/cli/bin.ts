import { runCli } from './main.js';

runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cms-skill-metrics: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
