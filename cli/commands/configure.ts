import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { Command } from 'commander';
import { configFilePath, InvalidSettingError, resolveEndpoint, saveConfig } from '../config.ts';
import { globalOptionsOf } from '../context.ts';
import { personCredentials } from '../credentials.ts';
import { EXIT } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';
import type { CommandRunner } from '../runner.ts';

/** The stack `npm run deploy` creates (infra/build-app.ts) and its output with the API's URL. */
export const DEFAULT_STACK_NAME = 'CitrixResponse';
export const API_URL_OUTPUT = 'ApiUrl';

/** The stack or its output cannot be read; the CloudFormation error is the cause. */
export class StackOutputError extends Error {
  override name = 'StackOutputError';
}

interface ConfigureOptions {
  readonly stack: string;
}

/** The API URL a deployed stack publishes, and the region it is in. */
export async function readStackApi(
  io: CliIo,
  stack: string,
  options: { readonly region?: string | undefined; readonly profile?: string | undefined },
): Promise<{ api: string; region: string }> {
  const region = options.region ?? (io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined);
  const client = new CloudFormationClient({
    ...(region === undefined ? {} : { region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    credentials: personCredentials(io.env, options.profile).provide,
  });
  let resolvedRegion: string;
  try {
    resolvedRegion = await client.config.region();
  } catch (error) {
    throw new StackOutputError(
      'No region to look for the stack in: pass --region or set AWS_REGION',
      {
        cause: error,
      },
    );
  }
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stack }));
    outputs = answer.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new StackOutputError(`Cannot read stack ${stack} in ${resolvedRegion}: ${why}`, {
      cause: error,
    });
  } finally {
    client.destroy();
  }
  const api = outputs.find((output) => output.OutputKey === API_URL_OUTPUT)?.OutputValue;
  if (api === undefined) {
    throw new StackOutputError(
      `Stack ${stack} in ${resolvedRegion} has no ${API_URL_OUTPUT} output: is it a Citrix Response stack?`,
    );
  }
  return { api, region: resolvedRegion };
}

/**
 * `configure [--stack <name>]`: reads the API URL from the stack's CloudFormation outputs (or takes
 * --api as given) and saves it with the region, so later commands need neither. --api and
 * CITRIX_RESPONSE_API still win over what is saved.
 */
export function registerConfigure(program: Command, runner: CommandRunner): void {
  const command: Command = program
    .command('configure')
    .summary('save the API of a deployed stack (from its CloudFormation outputs)')
    .description(
      `Save the API to use: the ${API_URL_OUTPUT} output of the CloudFormation stack (--stack, with --region and --profile), or the URL given with --api. Saved to $XDG_CONFIG_HOME/citrix-response/config.json (~/.config/…); --api and CITRIX_RESPONSE_API still win.`,
    )
    .option('--stack <name>', 'the CloudFormation stack', DEFAULT_STACK_NAME);
  runner.handleLocally(command, async (io, options: ConfigureOptions) => {
    const global = globalOptionsOf(command);
    const found =
      global.api === undefined
        ? await readStackApi(io, options.stack, global)
        : { api: global.api, region: undefined };
    // Checked as every command checks it, before it is saved.
    let endpoint: ReturnType<typeof resolveEndpoint>;
    try {
      endpoint = resolveEndpoint(
        { api: found.api, region: global.region ?? found.region },
        io.env,
        undefined,
      );
    } catch (error) {
      if (!(error instanceof InvalidSettingError)) throw error;
      command.error(`error: ${error.message}`, { exitCode: EXIT.usage });
    }
    const path = await saveConfig(io.env, {
      api: endpoint.api.href,
      region: endpoint.region,
      ...(global.api === undefined ? { stack: options.stack } : {}),
    });
    io.stdout.write(`Saved ${endpoint.api.href} (region ${endpoint.region}) to ${path}\n`);
    if (io.env.CITRIX_RESPONSE_API) {
      io.stderr.write(`CITRIX_RESPONSE_API is set, and wins over ${configFilePath(io.env)}\n`);
    }
    return EXIT.ok;
  });
}
