/**
 * The signing secret `npm start` and `npm run send` share when WEBHOOK_SECRET is not set. It is
 * public, so it is only accepted while the local stack talks to the built-in simulator.
 */
export const LOCAL_DEMO_WEBHOOK_SECRET = `whsec_${Buffer.from('citrix-response local demo secret').toString('base64')}`;

export const DEFAULT_API_PORT = 3000;
export const DEFAULT_SIMULATOR_PORT = 3001;
export const LOCAL_ACTIONS_TABLE = 'citrix-response-actions';
