import { describe, expect, it } from 'vitest';
import {
  CredentialsUnavailableError,
  describeCredentials,
  isLoopbackApi,
  personCredentials,
} from '../../cli/credentials.ts';
import { LOCAL_DEMO_PEOPLE } from '../../lib/identity/demo-people.ts';

// An environment with nothing the chain can use: no keys, no profile, no shared files, no IMDS.
const EMPTY = {
  HOME: '/nonexistent',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe('personCredentials', () => {
  it('signs with the environment pair when there is no profile', async () => {
    const credentials = personCredentials(
      { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE0001', AWS_SECRET_ACCESS_KEY: 'secret' },
      undefined,
      { localDemo: { notice: () => expect.unreachable('no demo person with credentials') } },
    );
    await expect(credentials.provide()).resolves.toEqual({
      accessKeyId: 'AKIAEXAMPLE0001',
      secretAccessKey: 'secret',
    });
    expect(describeCredentials(credentials.origin, 'AKIAEXAMPLE0001')).toBe(
      'access key …0001 from AWS_ACCESS_KEY_ID',
    );
  });

  it('falls back to the first local demo person, said once, only when asked to (loopback)', async () => {
    const notices: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, EMPTY);
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_PROFILE;
    try {
      const credentials = personCredentials(EMPTY, undefined, {
        localDemo: { notice: (line) => notices.push(line) },
      });
      const [name, keys] = Object.entries(LOCAL_DEMO_PEOPLE)[0] ?? [];
      await expect(credentials.provide()).resolves.toEqual(keys);
      await expect(credentials.provide()).resolves.toEqual(keys);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain(`local demo person ${name}`);
      expect(describeCredentials(credentials.origin, keys?.accessKeyId)).toContain(
        `of the local demo person ${name}`,
      );
      // Without the fallback (a deployed API), no credentials is an error that sends nothing.
      await expect(personCredentials(EMPTY, undefined).provide()).rejects.toBeInstanceOf(
        CredentialsUnavailableError,
      );
    } finally {
      process.env = saved;
    }
  });
});

describe('isLoopbackApi', () => {
  it.each([
    ['http://127.0.0.1:3000', true],
    ['http://localhost:3000/', true],
    ['http://[::1]:3000', true],
    ['https://127.0.0.1:3000', false],
    ['https://abc.execute-api.eu-west-1.amazonaws.com/prod/', false],
    ['http://127.0.0.1.example.com', false],
  ])('%s → %s', (url, loopback) => {
    expect(isLoopbackApi(new URL(url))).toBe(loopback);
  });
});
