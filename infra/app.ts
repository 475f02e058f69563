import { buildApp } from './build-app.ts';
import { InvalidContextError } from './config.ts';

// `cdk synth` runs this file and reads the cloud assembly that synth() writes to its outdir.
try {
  buildApp().app.synth();
} catch (error) {
  // A settings mistake gets one clear line per problem instead of a stack trace.
  if (!(error instanceof InvalidContextError)) throw error;
  for (const line of error.message.split('\n')) console.error(`citrix-response: ${line}`);
  process.exitCode = 1;
}
