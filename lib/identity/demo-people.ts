/**
 * The demo people `npm start` knows when `LOCAL_PEOPLE` is unset (public, printed at start, and
 * refused with a real tenant): two, so that one can approve what the other asked for. Each signs
 * with SigV4 as `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (local/people.ts). Here, beside the
 * identity code, because the CLI signs as the first of them when it finds no credentials and
 * talks to a loopback API (cli/credentials.ts), and the CLI may not import local/.
 */
export const LOCAL_DEMO_PEOPLE = {
  'soc.lead@example.com': {
    accessKeyId: 'LOCALDEMOSOCLEAD0001',
    secretAccessKey: 'local-demo-soc-lead-secret-access-key',
  },
  'it.oncall@example.com': {
    accessKeyId: 'LOCALDEMOITONCALL0002',
    secretAccessKey: 'local-demo-it-oncall-secret-access-key',
  },
} as const;
