import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CfnOutput } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_URL_OUTPUT, DEFAULT_STACK_NAME } from '../../../cli/commands/configure.ts';
import { EXIT } from '../../../cli/exit-codes.ts';
import { buildApp } from '../../../infra/build-app.ts';
import { appContext } from '../../infra/support/stack.ts';
import { closedPort } from '../../support/loopback-server.ts';
import { ACTION_ID, runCli, useFakeApi, viewOf } from '../support/fake-api.ts';

const cloudFormation = mockClient(CloudFormationClient);
const startFakeApi = useFakeApi();
let configHome: string;

beforeEach(async () => {
  cloudFormation.reset();
  configHome = await mkdtemp(join(tmpdir(), 'citrix-response-config-'));
});
afterEach(async () => rm(configHome, { recursive: true, force: true }));
afterAll(() => cloudFormation.restore());

const API_URL = 'https://abc123defg.execute-api.eu-central-1.amazonaws.com/prod/';

describe('configure', () => {
  it('looks for the stack npm run deploy creates, and its API URL output', () => {
    const { stack } = buildApp(appContext(), { validateTemplates: false });

    expect(stack.stackName).toBe(DEFAULT_STACK_NAME);
    expect(stack.node.tryFindChild(API_URL_OUTPUT)).toBeInstanceOf(CfnOutput);
  });

  it("saves the stack's ApiUrl output and its region", async () => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand, { StackName: DEFAULT_STACK_NAME }).resolves({
      Stacks: [
        {
          StackName: DEFAULT_STACK_NAME,
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'ActionsTableName', OutputValue: 'table' },
            { OutputKey: API_URL_OUTPUT, OutputValue: API_URL },
          ],
        },
      ],
    });
    const env = { XDG_CONFIG_HOME: configHome };

    // Act
    const run = await runCli(['configure', '--region', 'eu-central-1'], { env });

    // Assess
    expect(run.code).toBe(EXIT.ok);
    const path = join(configHome, 'citrix-response', 'config.json');
    expect(run.stdout).toBe(`Saved ${API_URL} (region eu-central-1) to ${path}\n`);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      api: API_URL,
      region: 'eu-central-1',
      stack: DEFAULT_STACK_NAME,
    });
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(1);
  });

  it('--api wins over the saved API, and CITRIX_RESPONSE_API too', async () => {
    const fake = await startFakeApi(() => ({ status: 200, body: viewOf({ status: 'succeeded' }) }));
    const env = { XDG_CONFIG_HOME: configHome };
    const nowhere = `http://127.0.0.1:${await closedPort()}/`;
    await runCli(['--api', nowhere, 'configure'], { env });

    const saved = await runCli(['status', ACTION_ID], { env });
    const flag = await runCli(['--api', fake.server.baseUrl.href, 'status', ACTION_ID], { env });
    const variable = await runCli(['status', ACTION_ID], {
      env: { ...env, CITRIX_RESPONSE_API: fake.server.baseUrl.href },
    });

    expect(saved.stderr).toContain(`Cannot reach ${new URL(nowhere).origin}`);
    expect(flag.code).toBe(EXIT.ok);
    expect(variable.code).toBe(EXIT.ok);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it('says so in one line when the stack has no ApiUrl output or cannot be read', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Other' }).resolves({ Stacks: [] });
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'Missing' })
      .rejects(new Error('Stack with id Missing does not exist'));
    const env = { XDG_CONFIG_HOME: configHome, AWS_REGION: 'eu-west-1' };

    const other = await runCli(['configure', '--stack', 'Other'], { env });
    const missing = await runCli(['configure', '--stack', 'Missing'], { env });

    expect(other.code).toBe(EXIT.failed);
    expect(other.stderr).toBe(
      'error: Stack Other in eu-west-1 has no ApiUrl output: is it a Citrix Response stack?\n',
    );
    expect(missing.stderr).toBe(
      'error: Cannot read stack Missing in eu-west-1: Stack with id Missing does not exist\n',
    );
  });

  it('refuses a saved configuration it cannot read, naming the file', async () => {
    const path = join(configHome, 'citrix-response', 'config.json');
    await runCli(['--api', 'http://127.0.0.1:1/', 'configure'], {
      env: { XDG_CONFIG_HOME: configHome },
    });
    await writeFile(path, '{"api": "not a url"}');

    const run = await runCli(['status', ACTION_ID], { env: { XDG_CONFIG_HOME: configHome } });

    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toBe(`error: ${path}: invalid api: run citrix-response configure again\n`);
  });
});
