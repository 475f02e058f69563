// `npm run bench`. Logs are silenced before any module creates the logger, which reads its level once.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
await import('./suites.ts');
