import { AdministratorReportSchema, describeReport } from '../lib/administrators/report.ts';
import { DEFAULT_API_PORT, LOCAL_REPORT_ROUTE } from './defaults.ts';

/**
 * `npm run report`: asks the running `npm start` to run the scheduled administrator report now,
 * and prints it. The route is local-only: in AWS an EventBridge schedule runs the report.
 */
const apiUrl = (
  process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? DEFAULT_API_PORT}`
).replace(/\/+$/, '');
const response = await fetch(`${apiUrl}${LOCAL_REPORT_ROUTE}`, { method: 'POST' });
if (!response.ok) {
  console.error(`${response.status} ${await response.text()}`);
  process.exit(1);
}
const report = AdministratorReportSchema.parse(await response.json());
for (const line of describeReport(report)) console.log(line);
console.log(JSON.stringify(report, null, 2));
