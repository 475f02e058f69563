import { AdministratorReportSchema, describeReport } from '../lib/administrators/report.ts';
import { LOCAL_REPORT_ROUTE } from './defaults.ts';
import { fetchOrExit, localApiUrl } from './reach.ts';

/**
 * `npm run report`: asks the running `npm start` to run the scheduled administrator report now,
 * and prints it. The route is local-only: in AWS an EventBridge schedule runs the report.
 */
const apiUrl = localApiUrl();
const response = await fetchOrExit(apiUrl, `${apiUrl}${LOCAL_REPORT_ROUTE}`, { method: 'POST' });
if (!response.ok) {
  console.error(`${response.status} ${await response.text()}`);
  process.exit(1);
}
const report = AdministratorReportSchema.parse(await response.json());
for (const line of describeReport(report)) console.log(line);
console.log(JSON.stringify(report, null, 2));
