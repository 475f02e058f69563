import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CitrixResponseStack } from './citrix-response-stack.ts';
import { readConfig } from './config.ts';
import { installDeployedRunbooks } from './runbooks.ts';

export interface BuildOptions {
  /**
   * CDK's built-in CloudFormation template validation, which `cdk synth` runs (cdk.json makes
   * its findings errors). Starting its rule engine takes seconds in every new process, so tests
   * that only read properties of the template may leave it out; cdk-nag always runs.
   * @default true
   */
  readonly validateTemplates?: boolean;
  /**
   * Where `SWEEPS_FILE` is read, which overrides the `sweepsFile` context.
   * @default process.env
   */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the app exactly as `cdk synth` does, for the CLI (`infra/app.ts`) and the tests. The CLI
 * passes cdk.json and `-c` context through the environment; `context` adds to it. `SWEEPS_FILE`,
 * read from the process environment as `npm start` reads it, overrides the `sweepsFile` context.
 * Throws `InvalidContextError` for invalid settings.
 */
export function buildApp(
  context: Record<string, unknown> = {},
  { validateTemplates = true, environment = process.env }: BuildOptions = {},
): { app: App; stack: CitrixResponseStack } {
  const app = new App({ context, builtinCloudFormationValidation: validateTemplates });
  // cdk-nag 3 runs as a validation plugin: any unacknowledged finding fails synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Before the routing rules and sweeps are read: they may run a runbook by name.
  installDeployedRunbooks(environment);
  const config = readConfig((key) => app.node.tryGetContext(key), environment);
  // Environment-agnostic: one template for any account and region, no lookups.
  const stack = new CitrixResponseStack(app, 'CitrixResponse', {
    description: 'Citrix Response: signed webhooks that contain incidents in Citrix DaaS',
    config,
  });
  return { app, stack };
}
