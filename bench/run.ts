// `npm run bench`, or `npm run bench -- cold-import` for the cold imports alone. Logs are silenced
// before any module creates the logger, which reads its level once.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const { coldImportSuite } = await import('./cold-import.ts');
await coldImportSuite();
if (!process.argv.includes('cold-import')) await import('./suites.ts');
