// `npm run bench`, or `npm run bench -- cold-import [--sdk-bundled]` for the cold imports alone. Logs are silenced
// before any module creates the logger, which reads its level once.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const { coldImportSuite } = await import('./cold-import.ts');
// `-- cold-import --sdk-bundled` times the rejected alternative: the AWS SDK inside each bundle.
await coldImportSuite(7, process.argv.includes('--sdk-bundled') ? 'bundled' : 'runtime');
if (!process.argv.includes('cold-import')) await import('./suites.ts');
