import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CitrixResponseStack } from './citrix-response-stack.ts';
import { readConfig } from './config.ts';

/**
 * Builds the app exactly as `cdk synth` does, for the CLI (`infra/app.ts`) and the tests. The CLI
 * passes cdk.json and `-c` context through the environment; `context` adds to it.
 * Throws `InvalidContextError` for invalid settings.
 */
export function buildApp(context: Record<string, unknown> = {}): {
  app: App;
  stack: CitrixResponseStack;
} {
  const app = new App({ context });
  // cdk-nag 3 runs as a validation plugin: any unacknowledged finding fails synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const config = readConfig((key) => app.node.tryGetContext(key));
  // Environment-agnostic: one template for any account and region, no lookups.
  const stack = new CitrixResponseStack(app, 'CitrixResponse', {
    description: 'Citrix Response: signed webhooks that contain incidents in Citrix DaaS',
    config,
  });
  return { app, stack };
}
